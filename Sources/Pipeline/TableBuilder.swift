import Foundation
import RecipeSpec

/// A problem building a recipe's results table.
public enum TableError: Error, CustomStringConvertible, Equatable {
    /// The recipe has no `table:` block.
    case noTable(recipe: String)
    /// `value:` is not `stage.metric` or names no stage of the cells.
    case badValue(String, reason: String)
    /// A rows/columns/aggregate axis is not a matrix axis.
    case unknownAxis(String, available: [String])
    /// A matrix axis with several values is neither rows, columns nor aggregate.
    case unplacedAxis(String)
    /// The paper CSV is malformed.
    case paperCSV(file: String, line: Int, message: String)

    public var description: String {
        switch self {
        case let .noTable(r): return "recipe '\(r)' has no table: block"
        case let .badValue(v, reason): return "table value '\(v)': \(reason); expected 'stage.metric'"
        case let .unknownAxis(a, available):
            return "table axis '\(a)' is not a matrix axis; the matrix has: " + available.joined(separator: ", ")
        case let .unplacedAxis(a):
            return "matrix axis '\(a)' has several values but is not in table rows, columns or aggregate"
        case let .paperCSV(file, line, message): return "\(file):\(line): \(message)"
        }
    }
}

/// One table cell: our values over the aggregate axis, their mean ± sample std, and the paper's.
public struct TableCell: Sendable, Equatable {
    /// Row label (row-axis values joined by ` / `).
    public var row: String
    /// Column label (column-axis values joined by ` / `).
    public var column: String
    /// The metric of each contributing matrix cell (e.g. one per seed), in matrix order.
    public var values: [Double]
    /// Mean of `values`; nil when none.
    public var mean: Double?
    /// Sample standard deviation (n − 1); nil when fewer than two values.
    public var std: Double?
    /// The node hashes the values came from.
    public var nodes: [String]
    /// Labels of matrix cells whose node is not finished or lacks the metric.
    public var missing: [String]
    /// The paper's number for this cell, as written in the paper CSV.
    public var paper: String?

    /// How many values were averaged.
    public var n: Int { values.count }
}

/// A built table and its three renderings (Markdown, CSV, JSON).
public struct TableOutput: Sendable {
    /// The recipe's name (names the Results/ folder).
    public var recipeName: String
    /// SHA-256 of the resolved recipe document.
    public var recipeHash: String
    /// The command that produced the results.
    public var command: String
    /// The table's `stage.metric`.
    public var value: String
    /// Axes labelling rows, columns, and the averaged axis.
    public var rowAxes: [String], columnAxes: [String], aggregate: String?
    /// Row and column labels in matrix order.
    public var rows: [String], columns: [String]
    /// Cells, row-major.
    public var cells: [TableCell]
    /// Paper CSV entries that match no cell, and similar notes.
    public var warnings: [String]
    /// BLAS kernel set → how many nodes behind the cells (their whole closure) it computed, from each node.json's
    /// `host.blas_core` ("not recorded" for nodes made before it was); empty when no node recorded one. Other
    /// kernels sum in another order, so the same recipe can differ in its last digits between kernel sets.
    public var blasCores: [String: Int] = [:]
    /// bf16 kernel → how many of those nodes hashed with `precision: bf16` it computed (`host.bf16_kernel`); empty
    /// when none is bf16. AMX sums in another order than AVX-512 BF16 and its AVX2 emulation (which agree by the SDM's definition).
    public var bf16Kernels: [String: Int] = [:]

    /// The cell at a row and column label.
    public func cell(row: String, column: String) -> TableCell? {
        cells.first { $0.row == row && $0.column == column }
    }

    /// `ours` as `mean ± std [n=k]` (or just the mean for one value, `—` for none), then `(paper)`.
    public func text(_ c: TableCell) -> String {
        var s: String
        if let mean = c.mean {
            let digits = TableBuilder.decimals(for: mean)
            s = TableBuilder.format(mean, digits)
            if let std = c.std { s += " ± " + TableBuilder.format(std, digits) + " [n=\(c.n)]" }
        } else {
            s = "—"
        }
        if let paper = c.paper { s += " (\(paper))" }
        return s
    }

    /// The Markdown table headed by recipe hash and command.
    public var markdown: String {
        var lines = ["# \(recipeName)", "", "- recipe hash: `\(recipeHash)`", "- command: `\(command)`"]
        var legend = "- value: `\(value)`"
        if let aggregate { legend += ", mean ± sample std over `\(aggregate)` [n runs]" }
        if cells.contains(where: { $0.paper != nil }) { legend += "; the paper's number in parentheses" }
        lines += [legend, ""]
        lines.append("| " + ([rowAxes.joined(separator: " / ")] + columns).joined(separator: " | ") + " |")
        lines.append("|" + String(repeating: "---|", count: columns.count + 1))
        for row in rows {
            let texts = columns.map { column in cell(row: row, column: column).map(text) ?? "—" }
            lines.append("| " + ([row] + texts).joined(separator: " | ") + " |")
        }
        let missing = cells.flatMap(\.missing)
        if !missing.isEmpty { lines += ["", "Missing (not computed yet): " + missing.joined(separator: "; ")] }
        if !warnings.isEmpty { lines += [""] + warnings.map { "Note: " + $0 } }
        if !blasCores.isEmpty { lines += ["", "Computed with OpenBLAS kernels: " + Self.counted(blasCores)] }
        if !bf16Kernels.isEmpty { lines += ["", "bf16 products by kernel: " + Self.counted(bf16Kernels)] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "a (2 nodes), b (1 nodes)": node counts by kernel, in name order.
    static func counted(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) nodes)" }.joined(separator: ", ")
    }

    /// Long-format CSV: `row,column,mean,std,n,paper`.
    public var csv: String {
        var lines = ["# recipe \(recipeName) hash \(recipeHash)", "# command: \(command)", "row,column,mean,std,n,paper"]
        for c in cells {
            let fields = [c.row, c.column, c.mean.map { "\($0)" } ?? "", c.std.map { "\($0)" } ?? "", "\(c.n)", c.paper ?? ""]
            lines.append(fields.map(TableBuilder.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Everything as JSON (sorted keys).
    public var json: String {
        func number(_ v: Double?) -> Any { v.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
        let cellObjects: [[String: Any]] = cells.map { c in
            ["row": c.row, "column": c.column, "mean": number(c.mean), "std": number(c.std), "n": c.n,
             "values": c.values.map { number($0) }, "nodes": c.nodes, "missing": c.missing,
             "paper": c.paper ?? NSNull()]
        }
        var object: [String: Any] = [
            "recipe": recipeName, "recipeHash": recipeHash, "command": command, "value": value,
            "rows": rowAxes, "columns": columnAxes, "aggregate": aggregate ?? NSNull(),
            "rowLabels": rows, "columnLabels": columns, "cells": cellObjects, "warnings": warnings,
        ]
        if !blasCores.isEmpty { object["blasCores"] = blasCores }
        if !bf16Kernels.isEmpty { object["bf16Kernels"] = bf16Kernels }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Writes `table.md`, `table.csv` and `results.json` into `directory/<recipe name>/` (pass the
    /// `Results` folder); returns that folder.
    @discardableResult
    public func write(to directory: URL) throws -> URL {
        let folder = directory.appendingPathComponent(recipeName)
        try ArtifactStore.makeDirectory(folder)
        for (name, text) in [("table.md", markdown), ("table.csv", csv), ("results.json", json)] {
            let url = folder.appendingPathComponent(name)
            try FileWriter.write(text, to: url)
        }
        return folder
    }
}
