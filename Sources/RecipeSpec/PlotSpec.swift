import Foundation

/// One entry of a recipe's `plots:` block: a figure drawn from the curves in the cells' node
/// `metrics.jsonl` files (`stage` and `y`), or from one number per cell as a table reads it (`value`).
public struct PlotSpec: Sendable, Hashable {
    /// The stage whose node's metrics hold the curve; `{axis}` stands for the cell's value of that
    /// axis. Empty in a value plot.
    public var stage: String
    /// A curve plot: `step` (the recorded step) or the name of a recorded value, e.g. `gold_used`.
    /// A value plot: the matrix axis whose values are the x positions.
    public var x: String
    /// The metric names drawn (one line each per line-axis value); `{axis}` works as in `stage`.
    /// Empty in a value plot.
    public var y: [String]
    /// A value plot's `stage.metric` (as `table.value`, `{axis}` included): each cell's number from
    /// its node's `summary.json`; nil for a curve plot.
    public var value: String?
    /// `where:`: only cells meeting every condition are drawn (an axis can be fixed to one value).
    public var filter: [CellCondition] = []
    /// Matrix axes whose values give one line each.
    public var lines: [String]
    /// Matrix axes whose values give one panel each, side by side.
    public var panels: [String]
    /// Matrix axis averaged over: lines show the mean, a band mean ± sample std.
    public var aggregate: String?
    /// The figure's title (default: the plot's name).
    public var title: String?
    /// Axis titles (default: `x`, and the `y` metric names joined).
    public var xLabel: String?, yLabel: String?

    public init(stage: String, x: String, y: [String], lines: [String] = [], panels: [String] = [],
                aggregate: String? = nil, title: String? = nil, xLabel: String? = nil, yLabel: String? = nil) {
        self.stage = stage
        self.x = x
        self.y = y
        self.lines = lines
        self.panels = panels
        self.aggregate = aggregate
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// A value plot: one point per cell at its `x`-axis value, `value` read as the table reads it.
    public init(value: String, x: String, lines: [String] = [], panels: [String] = [], aggregate: String? = nil,
                filter: [CellCondition] = [], title: String? = nil, xLabel: String? = nil, yLabel: String? = nil) {
        self.init(stage: "", x: x, y: [], lines: lines, panels: panels, aggregate: aggregate, title: title,
                  xLabel: xLabel, yLabel: yLabel)
        self.value = value
        self.filter = filter
    }

    /// The stage this plot reads in `cell`.
    public func stage(in cell: RecipeCell) -> String { AxisTemplate.substitute(stage, cell.matrix) }

    /// Whether `where:` keeps a cell with these axis values.
    public func selects(_ matrix: [(axis: String, value: ConfigValue)]) -> Bool {
        filter.allSatisfy { $0.matches(matrix) }
    }

    /// Axes that split the drawn cells into lines, panels, runs averaged and, in a value plot, x.
    public var placedAxes: [String] {
        (value == nil ? [] : [x]) + lines + panels + (aggregate.map { [$0] } ?? [])
    }
}

/// One `where:` condition of a plot: the cell's value of `axis` must be one of `values`.
public struct CellCondition: Sendable, Hashable {
    public var axis: String
    /// The values as written in cell labels (`reasoning`, `1`), so `1` matches an int axis value.
    public var values: [String]

    public init(axis: String, values: [String]) {
        self.axis = axis
        self.values = values
    }

    /// Whether the cell has the axis at one of the values (a cell without the axis does not).
    public func matches(_ matrix: [(axis: String, value: ConfigValue)]) -> Bool {
        matrix.first { $0.axis == axis }.map { values.contains($0.value.description) } ?? false
    }
}

/// `{axis}` placeholders in table values and plot fields: each stands for a cell's value of that
/// matrix axis, so one spec can name a different stage or metric per cell.
public enum AxisTemplate {
    /// `template` with every `{axis}` replaced by the cell's value of that axis (others left as written).
    public static func substitute(_ template: String, _ matrix: [(axis: String, value: ConfigValue)]) -> String {
        guard template.contains("{") else { return template }
        var out = template
        for m in matrix { out = out.replacingOccurrences(of: "{\(m.axis)}", with: m.value.description) }
        return out
    }

    /// The names inside `{...}` in `template`, in order.
    public static func placeholders(_ template: String) -> [String] {
        var names: [String] = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }
}
