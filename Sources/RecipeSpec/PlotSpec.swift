import Foundation

/// One entry of a recipe's `plots:` block: a figure drawn from the curves in the cells' node
/// `metrics.jsonl` files.
public struct PlotSpec: Sendable, Hashable {
    /// The stage whose node's metrics hold the curve; `{axis}` stands for the cell's value of that axis.
    public var stage: String
    /// `step` (the recorded step) or the name of a recorded value, e.g. `gold_used`.
    public var x: String
    /// The metric names drawn (one line each per line-axis value); `{axis}` works as in `stage`.
    public var y: [String]
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

    /// The stage this plot reads in `cell`.
    public func stage(in cell: RecipeCell) -> String { AxisTemplate.substitute(stage, cell.matrix) }
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
