import Foundation

/// Student's t distribution and the two-sample tests the verdicts use (docs/verdicts.md).
///
/// Pure Swift, no compute dependencies: the CDF goes through the regularised incomplete beta
/// function (Lentz's continued fraction), so non-integer degrees of freedom (Welch) work.
/// Checked against mpmath in Tests/PipelineTests/VerdictStatsTests.swift (golden table made by
/// scripts/verdicts_golden.py).
public enum StudentT {
    /// Two-sided tail probability P(|T| ≥ |t|) for `df` degrees of freedom (df > 0).
    public static func twoSidedP(_ t: Double, df: Double) -> Double {
        precondition(df > 0, "degrees of freedom must be positive")
        if t.isNaN { return .nan }
        if t.isInfinite { return 0 }
        return regularizedBeta(df / (df + t * t), a: df / 2, b: 0.5)
    }

    /// P(T ≤ t).
    public static func cdf(_ t: Double, df: Double) -> Double {
        let tail = twoSidedP(t, df: df) / 2
        return t >= 0 ? 1 - tail : tail
    }

    /// The `q` quantile (0 < q < 1): the t with P(T ≤ t) = q, by bisection on the CDF.
    public static func quantile(_ q: Double, df: Double) -> Double {
        precondition(q > 0 && q < 1, "quantile level must lie in (0, 1)")
        if q == 0.5 { return 0 }
        if q < 0.5 { return -quantile(1 - q, df: df) }
        // P(T > t) = 1 − q; twoSidedP falls with t, so bracket it and halve the bracket.
        let target = 2 * (1 - q)
        var lo = 0.0, hi = 1.0
        while twoSidedP(hi, df: df) > target { lo = hi; hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if twoSidedP(mid, df: df) > target { lo = mid } else { hi = mid }
            if hi - lo <= 1e-13 * hi { break }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b), the regularised incomplete beta function, for 0 ≤ x ≤ 1 and a, b > 0.
    public static func regularizedBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * betaFraction(x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * betaFraction(1 - x, a: b, b: a) / b
    }

    /// The continued fraction of I_x(a, b) (modified Lentz; Numerical Recipes §6.4 form).
    static func betaFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m), m2 = 2 * m
            // Even step.
            var aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // Odd step.
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }
}

/// The result of one two-sample comparison: difference a − b, its standard error, t, degrees of
/// freedom, two-sided p and the two-sided confidence interval of the difference.
public struct Comparison: Sendable, Equatable {
    /// How the test was made.
    public enum Method: String, Sendable {
        /// Welch's unequal-variance t-test (the default).
        case welch
        /// Paired t-test over the shared aggregate values (claims with `paired: true`).
        case paired
        /// One-sample t-test of one arm against the other arm's single run (`fixed: true`).
        case oneSample = "one-sample"
    }
    public var method: Method
    /// mean(a) − mean(b).
    public var difference: Double
    /// Standard error of the difference (0 when both arms are constant).
    public var standardError: Double
    /// difference / standardError (±∞ when the error is 0 and the difference is not).
    public var t: Double
    /// Degrees of freedom (Welch–Satterthwaite for Welch).
    public var df: Double
    /// Two-sided p-value of "no difference".
    public var p: Double
    /// The confidence interval of the difference at the level it was computed with.
    public var low: Double, high: Double
}

/// The two-sample tests over seeds.
public enum SeedTests {
    /// Welch's t-test of mean(a) − mean(b); both arms need two or more values.
    public static func welch(_ a: [Double], _ b: [Double], level: Double) -> Comparison {
        precondition(a.count >= 2 && b.count >= 2, "Welch's test needs two values per arm")
        let (ma, va) = meanVariance(a), (mb, vb) = meanVariance(b)
        let qa = va / Double(a.count), qb = vb / Double(b.count)
        let se = (qa + qb).squareRoot()
        // Welch–Satterthwaite; with both variances 0 the t is ±∞ or 0 and df does not matter.
        let dfDen = qa * qa / Double(a.count - 1) + qb * qb / Double(b.count - 1)
        let df = dfDen > 0 ? (qa + qb) * (qa + qb) / dfDen : Double(a.count + b.count - 2)
        return finish(.welch, difference: ma - mb, se: se, df: df, level: level)
    }

    /// Paired t-test over equal-length arms (pair i is a[i], b[i]).
    public static func paired(_ a: [Double], _ b: [Double], level: Double) -> Comparison {
        precondition(a.count == b.count && a.count >= 2, "a paired test needs two or more pairs")
        let (md, vd) = meanVariance(zip(a, b).map { $0 - $1 })
        let se = (vd / Double(a.count)).squareRoot()
        return finish(.paired, difference: md, se: se, df: Double(a.count - 1), level: level)
    }

    /// One-sample t-test of mean(sample) − fixed (the difference is sample − fixed).
    public static func oneSample(_ sample: [Double], against fixed: Double, level: Double) -> Comparison {
        precondition(sample.count >= 2, "a one-sample test needs two or more values")
        let (m, v) = meanVariance(sample)
        let se = (v / Double(sample.count)).squareRoot()
        return finish(.oneSample, difference: m - fixed, se: se, df: Double(sample.count - 1), level: level)
    }

    static func finish(_ method: Comparison.Method, difference: Double, se: Double, df: Double,
                       level: Double) -> Comparison {
        let t: Double = se > 0 ? difference / se : (difference == 0 ? 0 : (difference > 0 ? .infinity : -.infinity))
        let p = se > 0 ? StudentT.twoSidedP(t, df: df) : (difference == 0 ? 1 : 0)
        let half = se > 0 ? StudentT.quantile(1 - (1 - level) / 2, df: df) * se : 0
        return Comparison(method: method, difference: difference, standardError: se, t: t, df: df, p: p,
                          low: difference - half, high: difference + half)
    }

    /// Mean and sample variance (n − 1).
    static func meanVariance(_ x: [Double]) -> (Double, Double) {
        let m = x.reduce(0, +) / Double(x.count)
        guard x.count > 1 else { return (m, 0) }
        return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1))
    }
}
