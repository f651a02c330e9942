import Foundation
import RecipeSpec

/// A problem building one of a recipe's plots (the loader catches these in recipes it reads;
/// the builder checks again for recipes assembled in code).
public enum PlotError: Error, CustomStringConvertible, Equatable {
    /// The plot's stage, after `{axis}` substitution, is not a stage of a cell.
    case unknownStage(plot: String, stage: String, cell: String)
    /// A lines/panels/aggregate axis is not a matrix axis.
    case unknownAxis(plot: String, axis: String, available: [String])
    /// A matrix axis with several values is neither lines, panels nor aggregate.
    case unplacedAxis(plot: String, axis: String)
    /// A value plot's `value` is not `stage.metric` of a stage of a cell.
    case badValue(plot: String, value: String, reason: String)
    /// `where:` keeps no cell.
    case noCells(plot: String)

    public var description: String {
        switch self {
        case let .unknownStage(p, s, c): return "plot '\(p)': stage '\(s)' is not a stage of cell \(c)"
        case let .unknownAxis(p, a, available):
            return "plot '\(p)': '\(a)' is not a matrix axis; the matrix has: " + available.joined(separator: ", ")
        case let .unplacedAxis(p, a):
            return "plot '\(p)': matrix axis '\(a)' has several values but is not in lines, panels or aggregate"
        case let .badValue(p, v, reason): return "plot '\(p)': value '\(v)': \(reason); expected 'stage.metric'"
        case let .noCells(p): return "plot '\(p)': no cell meets every condition of where"
        }
    }
}

/// Builds a recipe's plots from the curves (`metrics.jsonl`) of its cells' finished nodes, or, for
/// a value plot, from one number per cell (`PlotBuilder+Values.swift`).
///
/// A run's curve is every metrics row holding both x and y as finite numbers (a row missing
/// either, or recording NaN, is skipped); where one run records the same x more than once, the
/// last row wins (the state reached at that x). Runs of one line are aligned on exactly equal x:
/// the line's points are the union of the runs' x values, each the mean (and sample std) of the
/// runs that recorded that x, so `n` can differ along a line when runs record different x.
public enum PlotBuilder {
    /// Every plot of `recipe`, in declaration order.
    public static func buildAll(recipe: ResolvedRecipe, graph: PipelineGraph, store: ArtifactStore,
                                command: String) throws -> [PlotOutput] {
        try recipe.plots.map { try build($0.name, $0.spec, recipe: recipe, graph: graph, store: store, command: command) }
    }

    /// The plot `name` with `spec` over `recipe`'s cells (those `where:` keeps); unfinished cells
    /// are listed as missing.
    public static func build(_ name: String, _ spec: PlotSpec, recipe: ResolvedRecipe, graph: PipelineGraph,
                             store: ArtifactStore, command: String) throws -> PlotOutput {
        let cells = try keptCells(name, spec, recipe: recipe)
        var out = PlotOutput(recipeName: recipe.name, recipeHash: recipe.contentHash, command: command, name: name, spec: spec)
        let runs = spec.value == nil
            ? try curves(name, spec, cells: cells, graph: graph, store: store, out: &out)
            : try values(name, spec, cells: cells, graph: graph, store: store, out: &out)
        for panel in out.panels {
            for line in out.lines {
                guard let r = runs[panel + "\u{0}" + line] else { continue }
                out.series.append(PlotSeries(panel: panel, line: line, points: aggregate(r)))
            }
        }
        return out
    }

    /// Each series' runs (x → y), keyed by panel and line: the curves of the cells' plotted nodes.
    static func curves(_ name: String, _ spec: PlotSpec, cells: [(index: Int, cell: RecipeCell)], graph: PipelineGraph,
                       store: ArtifactStore, out: inout PlotOutput) throws -> [String: [[Double: Double]]] {
        var runs: [String: [[Double: Double]]] = [:]
        // One node per series and aggregate value: cells that differ only in an axis the plotted
        // stage does not depend on share a node, and are drawn once.
        var drawn: [String: String] = [:]
        for (i, cell) in cells {
            let stage = spec.stage(in: cell)
            guard cell.stage(stage) != nil else { throw PlotError.unknownStage(plot: name, stage: stage, cell: cell.label) }
            let panel = TableBuilder.label(cell, spec.panels)
            if !out.panels.contains(panel) { out.panels.append(panel) }
            let node = graph.node(cellIndex: i, stage: stage)
            let slot = panel + "\u{0}" + lineLabel(cell, spec, metric: "") + "\u{0}" + TableBuilder.label(cell, spec.aggregate.map { [$0] } ?? [])
            if let hash = node?.hash, let earlier = drawn[slot] {
                if earlier == hash { continue }
                throw PlotError.unplacedAxis(plot: name, axis: unplacedAxis(spec, cells: cells.map(\.cell)) ?? "?")
            }
            if let hash = node?.hash { drawn[slot] = hash }
            let metrics = node.map { store.metrics(for: $0.hash) } ?? []
            var points = 0
            for y in spec.y {
                let line = lineLabel(cell, spec, metric: y)
                if !out.lines.contains(line) { out.lines.append(line) }
                let run = curve(metrics, x: AxisTemplate.substitute(spec.x, cell.matrix),
                                y: AxisTemplate.substitute(y, cell.matrix))
                points += run.count
                if !run.isEmpty { runs[panel + "\u{0}" + line, default: []].append(run) }
            }
            if node.map({ store.isComplete($0.hash) }) != true {
                out.missing.append(cell.label)
            } else if points == 0 {
                out.missing.append(cell.label + " (no points with both x and y)")
            }
        }
        return runs
    }

    /// A line's label: its line-axis values, then the metric when the plot draws several.
    static func lineLabel(_ cell: RecipeCell, _ spec: PlotSpec, metric: String) -> String {
        let base = TableBuilder.label(cell, spec.lines)
        if base.isEmpty { return metric }
        return spec.y.count > 1 ? base + " / " + metric : base
    }

    /// One run's curve, x → y; x `step` is the recorded step, any other x a recorded value.
    static func curve(_ metrics: [MetricPoint], x: String, y: String) -> [Double: Double] {
        var out: [Double: Double] = [:]
        for point in metrics {
            guard let xv = x == "step" ? Double(point.step) : point.values[x],
                  let yv = point.values[y], xv.isFinite, yv.isFinite else { continue }
            out[xv] = yv
        }
        return out
    }

    /// The runs' mean and sample std at every x any of them recorded, in increasing x.
    static func aggregate(_ runs: [[Double: Double]]) -> [PlotPoint] {
        let xs = Set(runs.flatMap(\.keys)).sorted()
        return xs.map { x in
            let values = runs.compactMap { $0[x] }
            let (mean, std) = TableBuilder.meanStd(values)
            return PlotPoint(x: x, mean: mean ?? .nan, std: std, n: values.count)
        }
    }

    /// The cells `where:` keeps, with their index in the recipe, after checking the axes the spec
    /// names; a value plot must place every axis that still has several values.
    static func keptCells(_ name: String, _ spec: PlotSpec, recipe: ResolvedRecipe) throws -> [(index: Int, cell: RecipeCell)] {
        let axes = TableBuilder.matrixAxes(recipe.cells)
        if let axis = spec.filter.map(\.axis).first(where: { !axes.contains($0) }) {
            throw PlotError.unknownAxis(plot: name, axis: axis, available: axes)
        }
        let kept = recipe.cells.enumerated().filter { spec.selects($0.element.matrix) }.map { (index: $0.offset, cell: $0.element) }
        guard !kept.isEmpty else { throw PlotError.noCells(plot: name) }
        switch TableBuilder.axisPlacement(spec.placedAxes, cells: kept.map(\.cell)) {
        case let .unknown(axis, available)?: throw PlotError.unknownAxis(plot: name, axis: axis, available: available)
        case let .unplaced(axis)? where spec.value != nil: throw PlotError.unplacedAxis(plot: name, axis: axis)
        case .unplaced?, nil: return kept
        }
    }

    /// The first several-valued axis the plot does not place (named when it splits a series).
    static func unplacedAxis(_ spec: PlotSpec, cells: [RecipeCell]) -> String? {
        if case let .unplaced(axis)? = TableBuilder.axisPlacement(spec.placedAxes, cells: cells) { return axis }
        return nil
    }
}
