import Foundation
import RecipeSpec

/// Value plots: one number per cell, read exactly as the table reads it (`TableBuilder.cellValue`),
/// placed at the cell's value of the `x` axis. Cells that differ only in the aggregate axis are
/// the runs averaged at a point, so a point's mean and std equal the table cell's over that axis.
extension PlotBuilder {
    /// Each series' runs keyed by panel and line: one run per aggregate value, in matrix order (so
    /// the values are summed in the table's order), holding x → that cell's number.
    static func values(_ name: String, _ spec: PlotSpec, cells: [(index: Int, cell: RecipeCell)], graph: PipelineGraph,
                       store: ArtifactStore, out: inout PlotOutput) throws -> [String: [[Double: Double]]] {
        let value = spec.value ?? ""
        let (position, categories) = xPositions(spec.x, cells.map(\.cell))
        out.xCategories = categories
        let aggregateAxes = spec.aggregate.map { [$0] } ?? []
        var runIndex: [String: Int] = [:]
        for (_, cell) in cells {
            let run = TableBuilder.label(cell, aggregateAxes)
            if runIndex[run] == nil { runIndex[run] = runIndex.count }
        }
        var runs: [String: [[Double: Double]]] = [:]
        for (i, cell) in cells {
            let panel = TableBuilder.label(cell, spec.panels)
            // With no lines axis the one line is named after what it draws.
            let line = spec.lines.isEmpty ? spec.yLabel ?? value : TableBuilder.label(cell, spec.lines)
            if !out.panels.contains(panel) { out.panels.append(panel) }
            if !out.lines.contains(line) { out.lines.append(line) }
            guard let number = try read(name, value, i, cell, graph: graph, store: store) else {
                out.missing.append(cell.label)
                continue
            }
            guard number.isFinite else {
                out.missing.append(cell.label + " (not a finite number)")
                continue
            }
            let key = panel + "\u{0}" + line, run = runIndex[TableBuilder.label(cell, aggregateAxes)] ?? 0
            var series = runs[key] ?? Array(repeating: [:], count: runIndex.count)
            series[run][position[TableBuilder.label(cell, [spec.x])] ?? .nan] = number
            runs[key] = series
        }
        return runs.mapValues { $0.filter { !$0.isEmpty } }
    }

    /// One cell's number (nil while unfinished), a bad `value` reported as this plot's error.
    static func read(_ name: String, _ value: String, _ index: Int, _ cell: RecipeCell, graph: PipelineGraph,
                     store: ArtifactStore) throws -> Double? {
        do {
            return try TableBuilder.cellValue(value, cellIndex: index, cell, graph: graph, store: store)?.value
        } catch let TableError.badValue(_, reason) {
            throw PlotError.badValue(plot: name, value: value, reason: reason)
        }
    }

    /// Where each value of `axis` sits on x: at its number when every value is a number (epochs:
    /// 1, 2, 3), else evenly at 0, 1, 2, ... in matrix order, the names returned as categories.
    static func xPositions(_ axis: String, _ cells: [RecipeCell]) -> (position: [String: Double], categories: [String]) {
        var labels: [String] = [], numbers: [Double] = []
        for cell in cells {
            guard let v = cell.matrix.first(where: { $0.axis == axis })?.value, !labels.contains(v.description) else { continue }
            labels.append(v.description)
            switch v {
            case let .int(i): numbers.append(Double(i))
            case let .double(d) where d.isFinite: numbers.append(d)
            default: break
            }
        }
        if numbers.count == labels.count { return (Dictionary(uniqueKeysWithValues: zip(labels, numbers)), []) }
        return (Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Double($0)) }), labels)
    }
}
