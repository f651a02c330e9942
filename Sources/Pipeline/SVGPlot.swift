import Foundation

/// Draws a `PlotOutput` as a self-contained SVG: one panel per panel label side by side, each with
/// its own linear axes, ticks and titles, one polyline per line (over a shaded mean ± std band
/// when runs were averaged), and a legend on the right.
///
/// The output is deterministic so golden files can pin it: colours come from a fixed palette in
/// line order (the same line has the same colour in every panel), coordinates are printed with
/// two decimals and tick labels with the decimals their step needs.
public enum SVGPlot {
    /// Tableau 10: distinguishable, and readable in grey scale by lightness.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    // Layout in pixels: each panel is `panelWidth` wide with its plot area inset for tick labels.
    static let panelWidth = 360.0, plotLeft = 64.0, plotWidth = 280.0
    static let plotTop = 60.0, plotHeight = 220.0, bottom = 52.0, legendWidth = 220.0, legendRow = 18.0

    /// The SVG document.
    public static func render(_ plot: PlotOutput) -> String {
        let width = Double(plot.panels.count) * panelWidth + legendWidth
        let legendBottom = plotTop + Double(plot.lines.count + 2) * legendRow
        let chartBottom = max(plotTop + plotHeight + bottom, legendBottom)
        let height = chartBottom + (plot.missing.isEmpty ? 0 : 20)
        var out = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
                + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">",
            "<!-- " + comment("preflab plot \(plot.name) of recipe \(plot.recipeName), hash \(plot.recipeHash)") + " -->",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            text(width / 2, 22, plot.title, anchor: "middle", extra: " font-size=\"15\" font-weight=\"bold\""),
        ]
        for (i, panel) in plot.panels.enumerated() {
            out += self.panel(plot, panel, at: Double(i) * panelWidth)
        }
        out += legend(plot, at: Double(plot.panels.count) * panelWidth + 12)
        if !plot.missing.isEmpty {
            let note = "\(plot.missing.count) run(s) missing (not computed yet); see \(plot.name).csv"
            out.append(text(plotLeft, chartBottom + 8, note, anchor: "start", extra: " font-size=\"11\" fill=\"#a00\""))
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// One panel: title, axes, then every line's band and polyline.
    static func panel(_ plot: PlotOutput, _ label: String, at x0: Double) -> [String] {
        let series = plot.series.filter { $0.panel == label }
        let points = series.flatMap(\.points)
        let sx = xScale(plot, points)
        let sy = PlotScale(covering: points.flatMap { [$0.mean - ($0.std ?? 0), $0.mean + ($0.std ?? 0)] })
        var out = ["<g transform=\"translate(\(n(x0)),0)\">"]
        if !label.isEmpty {
            out.append(text(plotLeft + plotWidth / 2, plotTop - 12, label, anchor: "middle", extra: " font-size=\"13\""))
        }
        out += axes(sx, sy, xTitle: plot.xLabel, yTitle: plot.yLabel)
        for s in series {
            out += draw(s, sx, sy, colour: colour(plot.lines.firstIndex(of: s.line) ?? 0), markers: plot.spec.value != nil)
        }
        if series.isEmpty {
            out.append(text(plotLeft + plotWidth / 2, plotTop + plotHeight / 2, "no data yet", anchor: "middle",
                            extra: " fill=\"#888\""))
        }
        out.append("</g>")
        return out
    }

    /// The x axis: a value plot's axis of names, else linear over the points, with whole-number
    /// ticks when a value plot's x values are all whole (a half epoch was never run).
    static func xScale(_ plot: PlotOutput, _ points: [PlotPoint]) -> PlotScale {
        if !plot.xCategories.isEmpty { return PlotScale(categories: plot.xCategories) }
        let whole = plot.spec.value != nil && points.allSatisfy { $0.x == $0.x.rounded() }
        return PlotScale(covering: points.map(\.x), minimumStep: whole ? 1 : 0)
    }

    /// Frame, grid lines, tick labels and axis titles.
    static func axes(_ sx: PlotScale, _ sy: PlotScale, xTitle: String, yTitle: String) -> [String] {
        let plotBottom = plotTop + plotHeight
        // Names wider than their slot (about 6.6 px a character) alternate between two rows, so
        // neighbours do not overlap.
        let slot = plotWidth / Double(max(sx.categories.count, 1))
        let stagger = sx.categories.contains { Double($0.count) * 6.6 > slot }
        var out: [String] = []
        for (k, t) in sx.ticks.enumerated() {
            let x = px(t, sx)
            out.append(line(x, plotTop, x, plotBottom, stroke: "#e6e6e6"))
            out.append(text(x, plotBottom + (stagger && k % 2 == 1 ? 29 : 16), sx.label(t), anchor: "middle"))
        }
        for t in sy.ticks {
            let y = py(t, sy)
            out.append(line(plotLeft, y, plotLeft + plotWidth, y, stroke: "#e6e6e6"))
            out.append(text(plotLeft - 6, y + 4, sy.label(t), anchor: "end"))
        }
        out.append("<rect x=\"\(n(plotLeft))\" y=\"\(n(plotTop))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" "
                   + "fill=\"none\" stroke=\"#444\"/>")
        out.append(text(plotLeft + plotWidth / 2, plotBottom + (stagger ? 46 : 38), xTitle, anchor: "middle"))
        let midY = plotTop + plotHeight / 2
        out.append("<text transform=\"translate(16,\(n(midY))) rotate(-90)\" text-anchor=\"middle\">\(xml(yTitle))</text>")
        return out
    }

    /// A line's band (when any point has a std) under its polyline; a dot when it has one point,
    /// and at every point with `markers` (a value plot's points are runs, not samples of a curve).
    static func draw(_ s: PlotSeries, _ sx: PlotScale, _ sy: PlotScale, colour: String, markers: Bool) -> [String] {
        var out: [String] = []
        if s.points.contains(where: { $0.std != nil }) {
            let upper = s.points.map { (px($0.x, sx), py($0.mean + ($0.std ?? 0), sy)) }
            let lower = s.points.reversed().map { (px($0.x, sx), py($0.mean - ($0.std ?? 0), sy)) }
            out.append("<polygon points=\"\(coordinates(upper + lower))\" fill=\"\(colour)\" fill-opacity=\"0.2\" stroke=\"none\"/>")
        }
        let means = s.points.map { (px($0.x, sx), py($0.mean, sy)) }
        if means.count > 1 {
            out.append("<polyline points=\"\(coordinates(means))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>")
        }
        for p in means where markers || means.count == 1 {
            out.append("<circle cx=\"\(n(p.0))\" cy=\"\(n(p.1))\" r=\"3\" fill=\"\(colour)\"/>")
        }
        return out
    }

    /// One row per line (a swatch of its colour, and of its band when averaged), then what the band is.
    static func legend(_ plot: PlotOutput, at x0: Double) -> [String] {
        var out = ["<g transform=\"translate(\(n(x0)),\(n(plotTop)))\">"]
        for (i, label) in plot.lines.enumerated() {
            let y = Double(i) * legendRow + 6
            if plot.spec.aggregate != nil {
                out.append("<rect x=\"0\" y=\"\(n(y - 6))\" width=\"22\" height=\"12\" fill=\"\(colour(i))\" fill-opacity=\"0.2\"/>")
            }
            out.append(line(0, y, 22, y, stroke: colour(i), width: 2))
            out.append(text(28, y + 4, label, anchor: "start"))
        }
        if let axis = plot.spec.aggregate {
            let y = Double(plot.lines.count) * legendRow + 10
            for (k, note) in ["line: mean over \(axis)", "band: mean ± sample std"].enumerated() {
                out.append(text(0, y + Double(k) * 14, note, anchor: "start", extra: " font-size=\"11\" fill=\"#555\""))
            }
        }
        out.append("</g>")
        return out
    }

    static func colour(_ index: Int) -> String { palette[index % palette.count] }

    static func px(_ x: Double, _ s: PlotScale) -> Double { plotLeft + s.fraction(x) * plotWidth }

    static func py(_ y: Double, _ s: PlotScale) -> Double { plotTop + (1 - s.fraction(y)) * plotHeight }

    /// A coordinate with two decimals (fixed, so output does not vary with float printing).
    static func n(_ v: Double) -> String { String(format: "%.2f", v) }

    static func coordinates(_ points: [(Double, Double)]) -> String {
        points.map { n($0.0) + "," + n($0.1) }.joined(separator: " ")
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1) -> String {
        "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\"/>"
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String, extra: String = "") -> String {
        "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\"\(extra)>\(xml(s))</text>"
    }

    /// Text escaped for XML content and attributes.
    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Text safe inside an XML comment, which may not contain `--`.
    static func comment(_ s: String) -> String {
        xml(s).replacingOccurrences(of: "--", with: "- -")
    }
}
