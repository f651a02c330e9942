import Foundation
import RecipeSpec

/// One point of a line: the mean at `x` over the runs that recorded it, their sample std (nil
/// below two runs) and how many runs.
public struct PlotPoint: Sendable, Equatable {
    public var x: Double, mean: Double, std: Double?, n: Int

    public init(x: Double, mean: Double, std: Double?, n: Int) {
        self.x = x
        self.mean = mean
        self.std = std
        self.n = n
    }
}

/// One line in one panel, its points in increasing x.
public struct PlotSeries: Sendable, Equatable {
    public var panel: String, line: String
    public var points: [PlotPoint]
}

/// A built plot: its lines per panel, and its two renderings (SVG and CSV).
public struct PlotOutput: Sendable {
    /// The recipe's name (names the Results/ folder).
    public var recipeName: String
    /// SHA-256 of the resolved recipe document.
    public var recipeHash: String
    /// The command that produced the results.
    public var command: String
    /// The plot's name under `plots:` (names its files).
    public var name: String
    /// What the recipe asked for.
    public var spec: PlotSpec
    /// Panel labels (panel-axis values joined by ` / `; one empty label with no panels), in matrix order.
    public var panels: [String] = []
    /// Line labels in matrix order, whether or not they have points yet (so colours stay put).
    public var lines: [String] = []
    /// A value plot over an axis of names: the names in matrix order, point x i standing for the
    /// i-th. Empty when x is numeric.
    public var xCategories: [String] = []
    /// Lines with at least one point, panel by panel in line order.
    public var series: [PlotSeries] = []
    /// Labels of matrix cells whose node is not finished, or whose curve has no point.
    public var missing: [String] = []

    public init(recipeName: String, recipeHash: String, command: String, name: String, spec: PlotSpec) {
        self.recipeName = recipeName
        self.recipeHash = recipeHash
        self.command = command
        self.name = name
        self.spec = spec
    }

    /// The line at a panel and line label.
    public func series(panel: String, line: String) -> PlotSeries? {
        series.first { $0.panel == panel && $0.line == line }
    }

    /// The figure title: the spec's, else the plot's name.
    public var title: String { spec.title ?? name }
    /// The x-axis title: the spec's, else the x metric.
    public var xLabel: String { spec.xLabel ?? spec.x }
    /// The y-axis title: the spec's, else the value or the y metrics joined.
    public var yLabel: String { spec.yLabel ?? spec.value ?? spec.y.joined(separator: ", ") }

    /// What was plotted, for the CSV header.
    var source: String {
        let what = spec.value.map { "value \($0) over matrix axis \(spec.x)" }
            ?? "stage \(spec.stage), x \(spec.x), y \(spec.y.joined(separator: ", "))"
        let filter = spec.filter.map { "\($0.axis) in [\($0.values.joined(separator: ", "))]" }
        return what + (filter.isEmpty ? "" : "; where " + filter.joined(separator: ", "))
            + (spec.aggregate.map { "; mean ± sample std over \($0)" } ?? "")
    }

    /// A point's x as the CSV writes it: the category's name on an axis of names.
    func xText(_ x: Double) -> String {
        guard !xCategories.isEmpty, let i = Int(exactly: x), xCategories.indices.contains(i) else { return "\(x)" }
        return xCategories[i]
    }

    /// The series in long format: `panel,line,x,mean,std,n` (std empty below two runs; x the
    /// category's name on an axis of names), after
    /// `#` lines naming the recipe, command, what was plotted and the missing cells.
    public var csv: String {
        var lines = ["# recipe \(recipeName) hash \(recipeHash)", "# command: \(command)", "# plot \(name): \(source)"]
        if !missing.isEmpty { lines.append("# missing (not computed yet): " + missing.joined(separator: "; ")) }
        lines.append("panel,line,x,mean,std,n")
        for s in series {
            for p in s.points {
                let fields = [s.panel, s.line, xText(p.x), "\(p.mean)", p.std.map { "\($0)" } ?? "", "\(p.n)"]
                lines.append(fields.map(TableBuilder.csvField).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The figure as SVG (see `SVGPlot`).
    public var svg: String { SVGPlot.render(self) }

    /// Writes `<name>.svg` and `<name>.csv` into `directory/<recipe name>/` (pass the `Results`
    /// folder); returns the two files.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        let folder = directory.appendingPathComponent(recipeName)
        try ArtifactStore.makeDirectory(folder)
        let files = [(folder.appendingPathComponent(name + ".svg"), svg), (folder.appendingPathComponent(name + ".csv"), csv)]
        for (url, text) in files { try FileWriter.write(text, to: url) }
        return files.map(\.0)
    }
}
