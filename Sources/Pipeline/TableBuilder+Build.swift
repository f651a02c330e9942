import Foundation
import RecipeSpec

/// Builds a recipe's results table from its cells' finished nodes.
///
/// Rows and columns are matrix axes; each table cell averages `stage.metric` (read from that
/// matrix cell's node `summary.json`) over the `aggregate` axis.
///
/// Paper CSV format: a header line `row,column,value`, then one line per cell. `row` and `column`
/// are the table's labels: the row-axis (column-axis) values joined by ` / ` in axis order, e.g.
/// `dpo` or `dpo / word_collector`. `value` is copied as written (e.g. `61.3` or `61.3 ± 1.2`).
/// Fields may be double-quoted (`""` escapes a quote); blank lines and lines starting with `#`
/// are ignored.
public enum TableBuilder {
    /// How many finished nodes behind `cells` each BLAS kernel set computed (`TableOutput.blasCores`), and each
    /// bf16 kernel among the nodes hashed with `precision: bf16` (`TableOutput.bf16Kernels`).
    static func kernels(behind cells: [TableCell], graph: PipelineGraph,
                        store: ArtifactStore) -> (blas: [String: Int], bf16: [String: Int]) {
        var blas: [String: Int] = [:], bf16: [String: Int] = [:]
        for hash in graph.closure(of: Set(cells.flatMap(\.nodes))) {
            guard let record = store.record(for: hash) else { continue }
            blas[record.host["blas_core"] ?? "not recorded", default: 0] += 1
            if isBF16(record) { bf16[record.host["bf16_kernel"] ?? "not recorded", default: 0] += 1 }
        }
        return (blas.keys.contains { $0 != "not recorded" } ? blas : [:], bf16)
    }

    /// Whether the node's hashed config asks for bf16 products (the trainers' top-level `precision`).
    static func isBF16(_ record: NodeRecord) -> Bool {
        guard let data = record.config.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["precision"] as? String == "bf16"
    }

    /// Builds the table of `recipe`; `command` heads the outputs; `paperCSV` adds the paper's numbers.
    public static func build(recipe: ResolvedRecipe, graph: PipelineGraph, store: ArtifactStore,
                             command: String, paperCSV: URL? = nil) throws -> TableOutput {
        guard let spec = recipe.table else { throw TableError.noTable(recipe: recipe.name) }
        try checkAxes(spec, recipe: recipe)
        var rows: [String] = [], columns: [String] = []
        var grouped: [String: TableCell] = [:]
        for (i, cell) in recipe.cells.enumerated() {
            let row = label(cell, spec.rows), column = label(cell, spec.columns)
            if !rows.contains(row) { rows.append(row) }
            if !columns.contains(column) { columns.append(column) }
            let key = row + "\u{0}" + column
            var entry = grouped[key] ?? TableCell(row: row, column: column, values: [], mean: nil, std: nil,
                                                  nodes: [], missing: [], paper: nil)
            if let read = try cellValue(spec.value, cellIndex: i, cell, graph: graph, store: store) {
                // A node shared by several aggregate values (one reward model under three PPO
                // seeds) is one run: counting it again would fake a spread of 0 over n runs.
                if !entry.nodes.contains(read.node) {
                    entry.values.append(read.value)
                    entry.nodes.append(read.node)
                }
            } else {
                entry.missing.append(cell.label)
            }
            grouped[key] = entry
        }
        var cells: [TableCell] = []
        for row in rows {
            for column in columns {
                guard var c = grouped[row + "\u{0}" + column] else { continue }
                (c.mean, c.std) = meanStd(c.values)
                cells.append(c)
            }
        }
        var warnings: [String] = []
        if let paperCSV {
            let paper = try parsePaperCSV(paperCSV)
            for entry in paper {
                if let i = cells.firstIndex(where: { $0.row == entry.row && $0.column == entry.column }) {
                    cells[i].paper = entry.value
                } else {
                    warnings.append("paper CSV line \(entry.line): no table cell row '\(entry.row)' column '\(entry.column)'")
                }
            }
        }
        let kernels = kernels(behind: cells, graph: graph, store: store)
        return TableOutput(recipeName: recipe.name, recipeHash: recipe.contentHash, command: command,
                           value: spec.value, rowAxes: spec.rows, columnAxes: spec.columns,
                           aggregate: spec.aggregate, rows: rows, columns: columns, cells: cells, warnings: warnings,
                           blasCores: kernels.blas, bf16Kernels: kernels.bf16)
    }

    /// One cell's number for `template` (`stage.metric` once `{axis}` is substituted): the metric
    /// in its node's `summary.json`, and that node; nil while the node is unfinished or lacks the
    /// metric. Tables and value plots both read cells through here, so they show the same numbers.
    static func cellValue(_ template: String, cellIndex: Int, _ cell: RecipeCell, graph: PipelineGraph,
                          store: ArtifactStore) throws -> (value: Double, node: String)? {
        let (stage, metric) = try splitValue(cellMetric(template, cell), in: cell, template: template)
        guard let node = graph.node(cellIndex: cellIndex, stage: stage),
              let value = store.summary(for: node.hash)?[metric] else { return nil }
        return (value, node.hash)
    }

    /// The recipe's `table.paper` CSV. The loader has already resolved it against the folder of
    /// the file that wrote it, so a relative path here is relative to the working directory.
    public static func paperURL(for recipe: ResolvedRecipe) -> URL? {
        guard let paper = recipe.table?.paper, !paper.isEmpty else { return nil }
        return URL(fileURLWithPath: paper).standardizedFileURL
    }

    /// Mean and sample standard deviation (nil below two values).
    public static func meanStd(_ values: [Double]) -> (mean: Double?, std: Double?) {
        guard !values.isEmpty else { return (nil, nil) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, nil) }
        let ss = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, (ss / Double(values.count - 1)).squareRoot())
    }

    /// One paper CSV entry.
    public struct PaperEntry: Sendable, Equatable {
        public var row: String, column: String, value: String, line: Int
    }

    /// Reads a paper CSV (format in the type's documentation).
    public static func parsePaperCSV(_ url: URL) throws -> [PaperEntry] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw TableError.paperCSV(file: url.path, line: 0, message: "cannot read the file as UTF-8 text")
        }
        var entries: [PaperEntry] = []
        var sawHeader = false
        for (i, raw) in text.components(separatedBy: .newlines).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = try csvFields(line, file: url.path, line: i + 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if !sawHeader {
                guard fields.map({ $0.lowercased() }) == ["row", "column", "value"] else {
                    throw TableError.paperCSV(file: url.path, line: i + 1,
                                              message: "expected the header 'row,column,value', found '\(line)'")
                }
                sawHeader = true
                continue
            }
            guard fields.count == 3 else {
                throw TableError.paperCSV(file: url.path, line: i + 1, message: "expected 3 fields (row,column,value), found \(fields.count)")
            }
            if let previous = entries.first(where: { $0.row == fields[0] && $0.column == fields[1] }) {
                throw TableError.paperCSV(file: url.path, line: i + 1,
                                          message: "row '\(fields[0])' column '\(fields[1])' already given on line \(previous.line)")
            }
            entries.append(PaperEntry(row: fields[0], column: fields[1], value: fields[2], line: i + 1))
        }
        return entries
    }

    static func csvFields(_ line: String, file: String, line number: Int) throws -> [String] {
        var fields: [String] = [], current = "", quoted = false, wasQuoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { current.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
                current = ""
            } else if c == "," {
                fields.append(current)
                current = ""
                wasQuoted = false
            } else {
                current.append(c)
            }
        }
        if quoted { throw TableError.paperCSV(file: file, line: number, message: "unterminated quoted field") }
        fields.append(current)
        return fields
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Decimals for a number of this size: 1 from 100 up, 2 from 10, else 3.
    static func decimals(for x: Double) -> Int {
        let a = abs(x)
        return a >= 100 ? 1 : (a >= 10 ? 2 : 3)
    }

    static func format(_ x: Double, _ digits: Int) -> String {
        x.isFinite ? String(format: "%.\(digits)f", x) : "nan"
    }

    /// Row or column label: the cell's values of `axes`, joined by ` / `.
    static func label(_ cell: RecipeCell, _ axes: [String]) -> String {
        axes.map { axis in cell.matrix.first { $0.axis == axis }.map { "\($0.value)" } ?? "" }.joined(separator: " / ")
    }

    /// The value of one cell: `{axis}` stands for that cell's value of the axis, so one table can
    /// show several metrics of a stage (`eval.{category}`) or read a different stage per column
    /// (`"{measure}"` with measure values such as `rm_eval.accuracy`, `bon.mean`).
    static func cellMetric(_ template: String, _ cell: RecipeCell) -> String {
        AxisTemplate.substitute(template, cell.matrix)
    }

    /// `stage.metric` of one cell's (substituted) value; the stage must exist in that cell.
    static func splitValue(_ value: String, in cell: RecipeCell, template: String) throws -> (String, String) {
        guard let dot = value.firstIndex(of: "."), dot != value.startIndex, value.index(after: dot) != value.endIndex else {
            throw TableError.badValue(template, reason: "'\(value)' has no '.' between stage and metric")
        }
        let stage = String(value[..<dot]), metric = String(value[value.index(after: dot)...])
        guard cell.stages.contains(where: { $0.name == stage }) else {
            throw TableError.badValue(template, reason: "stage '\(stage)' is not a stage of cell \(cell.label)")
        }
        return (stage, metric)
    }

    static func checkAxes(_ spec: TableSpec, recipe: ResolvedRecipe) throws {
        switch axisPlacement(spec.rows + spec.columns + (spec.aggregate.map { [$0] } ?? []), cells: recipe.cells) {
        case let .unknown(axis, available)?: throw TableError.unknownAxis(axis, available: available)
        case let .unplaced(axis)?: throw TableError.unplacedAxis(axis)
        case nil: return
        }
    }
}
