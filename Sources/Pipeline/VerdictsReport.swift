import Foundation
import RecipeSpec

/// A problem judging a recipe's claims.
public enum VerdictsError: Error, CustomStringConvertible, Equatable {
    /// results.json is missing or not a table's results.
    case badResults(file: String, reason: String)
    /// A claim names a cell the results do not have (the recipe changed since the run).
    case missingCell(claim: String, location: String, cell: String, file: String)

    public var description: String {
        switch self {
        case let .badResults(file, reason): return "\(file): \(reason)"
        case let .missingCell(claim, location, cell, file):
            return "\(location)claim '\(claim)': \(file) has no cell '\(cell)'; rerun the recipe or `preflab table` it"
        }
    }
}

/// A recipe's claims judged on its table: what `findings.md` shows.
public struct VerdictsReport: Sendable {
    /// The recipe's name (its Results/ folder).
    public var recipeName: String
    /// The recipe hash the table was built with (from results.json).
    public var recipeHash: String
    /// The command that built the table (from results.json): the run's provenance.
    public var command: String
    /// The recipe's `findings_note:` (context, never a verdict).
    public var note: String?
    /// The axis the runs of a cell differ in (e.g. `seed`); nil for one-run tables.
    public var aggregate: String?
    /// Where the numbers came from, for the header.
    public var source: String
    public var verdicts: [Verdict]

    /// Judges `claims` on `cells` (a table's cells, built or read back from results.json).
    public static func judge(claims: [ClaimSpec], cells: [TableCell], recipeName: String, recipeHash: String,
                             command: String = "", note: String? = nil,
                             aggregate: String?, source: String) throws -> VerdictsReport {
        var verdicts: [Verdict] = []
        for claim in claims {
            func arm(_ a: ClaimSpec.Arm) throws -> ArmSample {
                guard let c = cells.first(where: { $0.row == a.row && $0.column == a.column }) else {
                    throw VerdictsError.missingCell(claim: claim.id, location: claim.location.map { "\($0): " } ?? "",
                                                    cell: a.label, file: source)
                }
                return ArmSample(values: c.values, nodes: c.nodes)
            }
            verdicts.append(VerdictRule.judge(claim, a: try arm(claim.a), b: try arm(claim.b)))
        }
        return VerdictsReport(recipeName: recipeName, recipeHash: recipeHash, command: command, note: note,
                              aggregate: aggregate, source: source, verdicts: verdicts)
    }

    /// Judges `claims` on a built table.
    public static func judge(claims: [ClaimSpec], note: String? = nil, table: TableOutput, source: String) throws -> VerdictsReport {
        try judge(claims: claims, cells: table.cells, recipeName: table.recipeName, recipeHash: table.recipeHash,
                  command: table.command, note: note, aggregate: table.aggregate, source: source)
    }

    /// Judges `claims` on a results.json written by TableOutput (no store needed).
    public static func judge(claims: [ClaimSpec], note: String? = nil, resultsJSON url: URL) throws -> VerdictsReport {
        let file = url.path
        guard let data = try? Data(contentsOf: url) else { throw VerdictsError.badResults(file: file, reason: "cannot read the file") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let rawCells = object["cells"] as? [[String: Any]] else {
            throw VerdictsError.badResults(file: file, reason: "not a results.json (expected an object with 'cells')")
        }
        var cells: [TableCell] = []
        for (i, c) in rawCells.enumerated() {
            guard let row = c["row"] as? String, let column = c["column"] as? String,
                  let values = c["values"] as? [Any], let nodes = c["nodes"] as? [String] else {
                throw VerdictsError.badResults(file: file, reason: "cells[\(i)] lacks row, column, values or nodes")
            }
            // A null value (a non-finite metric) is not a run that can be tested.
            let numbers = zip(values, nodes).compactMap { v, n in (v as? NSNumber).map { ($0.doubleValue, n) } }
            let (mean, std) = TableBuilder.meanStd(numbers.map(\.0))
            cells.append(TableCell(row: row, column: column, values: numbers.map(\.0), mean: mean, std: std,
                                   nodes: numbers.map(\.1), missing: c["missing"] as? [String] ?? [], paper: nil))
        }
        return try judge(claims: claims, cells: cells, recipeName: object["recipe"] as? String ?? "",
                         recipeHash: object["recipeHash"] as? String ?? "", command: object["command"] as? String ?? "",
                         note: note, aggregate: object["aggregate"] as? String, source: file)
    }

    /// The file PrefLab writes per recipe: the verdicts, their notes and the recipe's context.
    public static let fileName = "findings.md"

    /// Writes `findings.md` into `directory/<recipe name>/` (pass the Results folder).
    @discardableResult
    public func write(to directory: URL) throws -> URL {
        let folder = directory.appendingPathComponent(recipeName)
        try ArtifactStore.makeDirectory(folder)
        let url = folder.appendingPathComponent(Self.fileName)
        try FileWriter.write(markdown, to: url)
        return url
    }

    /// The outcomes counted, then each claim's outcome with a − b and p: README's verdict column.
    public var summary: String {
        guard !verdicts.isEmpty else { return "no claims judged (findings.md: context only)" }
        let plural: [Outcome: String] = [.holds: "hold", .doesNotHold: "do not hold", .undecided: "undecided"]
        let counts = [Outcome.holds, .doesNotHold, .undecided].compactMap { o -> String? in
            let k = verdicts.filter { $0.outcome == o }.count
            return k == 0 ? nil : "\(k) \(k == 1 ? o.rawValue : plural[o]!)"
        }
        let each = verdicts.map { v -> String in
            let digits = TableBuilder.decimals(for: max(abs(v.a.mean), abs(v.b.mean))) + 1
            let p = v.comparison.map { $0.p < 0.001 ? ", p < 0.001" : String(format: ", p = %.3f", $0.p) } ?? ", n = 1"
            return "\(v.claim.id) \(v.outcome.rawValue) (\(TableBuilder.format(v.a.mean - v.b.mean, digits))\(p))"
        }
        return "\(verdicts.count) claim\(verdicts.count == 1 ? "" : "s"): " + counts.joined(separator: ", ") + " — " + each.joined(separator: "; ")
    }

    /// findings.md: provenance, one line per claim (the cells' means and runs, a − b with its 95 % CI,
    /// the test, p, outcome), the claims' notes, then the recipe's `findings_note:`.
    public var markdown: String {
        let runs = aggregate.map { "runs over `\($0)`" } ?? "one run per cell"
        var lines = [
            "# \(recipeName) — findings", "",
            "Generated by PrefLab from `results.json` (`preflab verdicts` regenerates it; nothing here is written by hand "
                + "but the recipe's notes). Run: recipe hash `\(recipeHash.prefix(12))`, "
                + (command.isEmpty ? "" : "table built by `\(command)`, ") + "\(runs).", "",
            "Summary: \(summary)", "",
        ]
        if !verdicts.isEmpty {
            lines += [
                "## Verdicts", "",
                "Rule (docs/verdicts.md): two-sided t-test over runs (Welch unless the claim says `paired` or an arm is a "
                    + "`fixed` single run), α = \(VerdictRule.alpha), 95 % CI of a − b; n counts distinct nodes.", "",
                "| claim | a | b | a − b [95 % CI] | test | p | verdict |",
                "|---|---|---|---|---|---|---|",
            ]
            for v in verdicts { lines.append(row(v)) }
            let notes = verdicts.compactMap { v in v.claim.note.map { "- **\(v.claim.id)**: \(Self.oneLine($0))" } }
            if !notes.isEmpty { lines += ["", "Notes on the claims (from the recipe):", ""] + notes }
        }
        if let note {
            lines += ["", "## Context (the recipe's `findings_note:`)", "", note.trimmingCharacters(in: .whitespacesAndNewlines)]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML folded note as one Markdown line.
    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    func row(_ v: Verdict) -> String {
        let digits = TableBuilder.decimals(for: max(abs(v.a.mean), abs(v.b.mean))) + 1
        func f(_ x: Double) -> String { TableBuilder.format(x, digits) }
        func arm(_ s: ArmSample, _ spec: ClaimSpec.Arm) -> String {
            var t = "\(spec.label): \(f(s.mean))"
            if let sd = s.std { t += " ± \(f(sd))" }
            t += " (n=\(s.n)\(spec.fixed ? ", fixed" : "")\(s.listed != s.n ? ", \(s.listed) listed" : ""))"
            return t
        }
        let expects: String
        switch v.claim.expect {
        case .notLess: expects = "a > b − \(f(v.claim.minEffect ?? 0))"
        case .equal: expects = "a ≈ b" + (v.claim.minEffect.map { ", margin \(f($0))" } ?? "")
        case .greater, .less: expects = "a \(v.claim.expect == .greater ? ">" : "<") b" + (v.claim.minEffect.map { ", by ≥ \(f($0))" } ?? "")
        }
        let claim = "**\(v.claim.id)** (expects \(expects)): " + v.claim.text
        var diff = f(v.a.mean - v.b.mean), test = "—", p = "—"
        if let c = v.comparison {
            diff = "\(f(c.difference)) [\(f(c.low)), \(f(c.high))]"
            let df = c.df == c.df.rounded() ? String(Int(c.df)) : String(format: "%.1f", c.df)
            test = "\(c.method.rawValue) t(\(df)) = " + (c.t.isFinite ? String(format: "%.2f", c.t) : (c.t > 0 ? "∞" : "−∞"))
            p = c.p < 0.001 ? "< 0.001" : String(format: "%.3f", c.p)
        }
        let cells = [claim, arm(v.a, v.claim.a), arm(v.b, v.claim.b), diff, test, p,
                     "**\(v.outcome.rawValue)** (\(v.reason))"]
        return "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }
}
