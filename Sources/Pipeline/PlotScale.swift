import Foundation

/// A linear axis over a range of data, widened to round bounds with about five ticks; or an axis
/// of names, one tick each.
struct PlotScale: Equatable {
    /// The axis bounds: multiples of `step` around the data.
    var lower: Double, upper: Double
    /// The distance between ticks: 1, 2 or 5 times a power of ten.
    var step: Double
    /// An axis of names: the i-th name's tick is at i. Empty on a numeric axis.
    var categories: [String] = []

    /// The scale covering `values` (non-finite ones ignored); [0, 1] when there are none, and a
    /// span around the value when all are equal (so a flat line sits mid-panel). `minimumStep`
    /// keeps ticks on whole numbers where only those mean something (epochs 1, 2, 3).
    init(covering values: [Double], ticks: Int = 5, minimumStep: Double = 0) {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if hi - lo <= 1e-12 * max(1, abs(hi)) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        step = max(Self.niceStep((hi - lo) / Double(ticks)), minimumStep)
        // A millionth of a step of slack, so float noise (0.30000000000000004) or a value a hair
        // below zero does not add a whole empty tick interval.
        lower = (lo / step + 1e-6).rounded(.down) * step
        upper = (hi / step - 1e-6).rounded(.up) * step
    }

    /// An axis of names, evenly spaced, with half a step of margin at each end.
    init(categories: [String]) {
        lower = -0.5
        upper = Double(max(categories.count, 1)) - 0.5
        step = 1
        self.categories = categories
    }

    /// The round step nearest (on a log scale) to `rough`, as d3's tick rule picks it.
    static func niceStep(_ rough: Double) -> Double {
        let power = pow(10, log10(rough).rounded(.down))
        let error = rough / power
        let factor: Double = error >= 50.0.squareRoot() ? 10 : error >= 10.0.squareRoot() ? 5 : error >= 2.0.squareRoot() ? 2 : 1
        return factor * power
    }

    /// Tick values from `lower` to `upper` (one per name on an axis of names).
    var ticks: [Double] {
        if !categories.isEmpty { return categories.indices.map(Double.init) }
        let count = Int(((upper - lower) / step).rounded())
        return (0...count).map { lower + Double($0) * step }
    }

    /// Where `v` falls between `lower` (0) and `upper` (1).
    func fraction(_ v: Double) -> Double { (v - lower) / (upper - lower) }

    /// Decimals that show every tick exactly: none for whole steps, one for 0.5, two for 0.05, ...
    var decimals: Int {
        (0...9).first { d in
            let scaled = step * pow(10, Double(d))
            return abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled)
        } ?? 9
    }

    /// A tick label with `decimals` digits (never `-0`); the name on an axis of names.
    func label(_ v: Double) -> String {
        if let i = Int(exactly: v), categories.indices.contains(i) { return categories[i] }
        return String(format: "%.\(decimals)f", abs(v) < step * 1e-9 ? 0 : v)
    }
}
