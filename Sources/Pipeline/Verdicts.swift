import Foundation
import RecipeSpec

/// The outcome of one claim under the rule of docs/verdicts.md.
public enum Outcome: String, Sendable {
    case holds
    case doesNotHold = "does not hold"
    case undecided
}

/// One arm of a judged claim: the cell's runs, one per distinct node.
public struct ArmSample: Sendable, Equatable {
    /// The values, one per distinct node, in matrix order.
    public var values: [Double]
    /// How many values the cell listed (runs sharing one node count once in `values`).
    public var listed: Int
    public var n: Int { values.count }
    public var mean: Double { values.reduce(0, +) / Double(max(values.count, 1)) }
    public var std: Double? { values.count > 1 ? SeedTests.meanVariance(values).1.squareRoot() : nil }

    /// The values of a table cell, keeping the first value of each node (a node shared by several
    /// aggregate values, e.g. one reward model for three PPO seeds, is one run, not three).
    public init(values: [Double], nodes: [String]) {
        var seen: Set<String> = [], kept: [Double] = []
        for (i, v) in values.enumerated() {
            let node = i < nodes.count ? nodes[i] : "#\(i)"
            if seen.insert(node).inserted { kept.append(v) }
        }
        self.values = kept
        self.listed = values.count
    }
}

/// A claim with its numbers, test and outcome.
public struct Verdict: Sendable {
    public var claim: ClaimSpec
    public var a: ArmSample, b: ArmSample
    /// The test; nil when an arm has too few runs to test.
    public var comparison: Comparison?
    public var outcome: Outcome
    /// Why, in a few words (e.g. `p ≥ 0.05; CI holds the claimed 0.02`).
    public var reason: String
}

/// The comparison rule (docs/verdicts.md): a two-sided t-test over runs at α = 0.05, the 95 %
/// confidence interval of a − b, and three outcomes.
public enum VerdictRule {
    /// Two-sided significance level.
    public static let alpha = 0.05
    /// Confidence level of the interval (1 − α, so the interval excludes 0 exactly when p < α).
    public static let level = 1 - alpha

    /// Judges `claim` on the runs of its two cells.
    public static func judge(_ claim: ClaimSpec, a: ArmSample, b: ArmSample) -> Verdict {
        var v = Verdict(claim: claim, a: a, b: b, comparison: nil, outcome: .undecided, reason: "")
        guard let c = test(claim, a: a, b: b, reason: &v.reason) else { return v }
        v.comparison = c
        switch claim.expect {
        case .equal: (v.outcome, v.reason) = equivalence(c, margin: claim.minEffect ?? 0)
        case .notLess: (v.outcome, v.reason) = nonInferiority(c, margin: claim.minEffect ?? 0)
        case .greater, .less: (v.outcome, v.reason) = direction(c, sign: claim.expect == .greater ? 1 : -1, minEffect: claim.minEffect ?? 0)
        }
        return v
    }

    /// The test the arms allow: one-sample against a fixed arm, paired, or Welch; nil (with the
    /// reason) when an arm has fewer than two runs, or a paired claim's arms differ in length.
    static func test(_ claim: ClaimSpec, a: ArmSample, b: ArmSample, reason: inout String) -> Comparison? {
        if claim.a.fixed || claim.b.fixed {
            let (fixed, other) = claim.a.fixed ? (a, b) : (b, a)
            guard fixed.n == 1 else { reason = "a fixed arm needs exactly one run, has \(fixed.n)"; return nil }
            guard other.n >= 2 else { reason = "n = \(other.n) against a fixed run: too few runs"; return nil }
            let c = SeedTests.oneSample(other.values, against: fixed.values[0], level: level)
            return claim.a.fixed ? negated(c) : c
        }
        guard a.n >= 2, b.n >= 2 else { reason = "n = \(a.n) vs \(b.n): too few runs (2 per arm needed)"; return nil }
        if claim.paired {
            guard a.n == b.n, a.listed == b.listed else { reason = "paired arms differ in length (\(a.n) vs \(b.n))"; return nil }
            return SeedTests.paired(a.values, b.values, level: level)
        }
        return SeedTests.welch(a.values, b.values, level: level)
    }

    /// b − a's test read as a − b.
    static func negated(_ c: Comparison) -> Comparison {
        var out = c
        (out.difference, out.t, out.low, out.high) = (-c.difference, -c.t, -c.high, -c.low)
        return out
    }

    /// `greater` (sign 1) or `less` (−1): holds when the test rejects in the claimed direction and
    /// the interval reaches `minEffect`; does not hold when it rejects the other way, or the
    /// interval lies below `minEffect`; undecided otherwise.
    static func direction(_ c: Comparison, sign: Double, minEffect: Double) -> (Outcome, String) {
        let d = sign * c.difference, upper = sign > 0 ? c.high : -c.low
        let claimed = TableBuilder.format(minEffect, 3)
        if c.p < alpha {
            if d < 0 { return (.doesNotHold, "p < \(alpha): the opposite direction") }
            if upper < minEffect { return (.doesNotHold, "p < \(alpha) but the CI lies below the claimed \(claimed)") }
            return (.holds, "p < \(alpha) in the claimed direction")
        }
        if minEffect > 0 && upper < minEffect { return (.doesNotHold, "p ≥ \(alpha) and the CI lies below the claimed \(claimed)") }
        return (.undecided, minEffect > 0 ? "p ≥ \(alpha); the CI holds the claimed \(claimed)" : "p ≥ \(alpha)")
    }

    /// `equal` with margin m: holds when the interval lies inside (−m, m); does not hold when the
    /// test rejects and |a − b| ≥ m; undecided otherwise.
    static func equivalence(_ c: Comparison, margin: Double) -> (Outcome, String) {
        let m = TableBuilder.format(margin, 3)
        if c.low > -margin && c.high < margin { return (.holds, "the CI lies inside ±\(m)") }
        if c.p < alpha && abs(c.difference) >= margin { return (.doesNotHold, "p < \(alpha) and |a − b| ≥ \(m)") }
        return (.undecided, c.p < alpha ? "p < \(alpha) but |a − b| < \(m)" : "p ≥ \(alpha); the CI reaches beyond ±\(m)")
    }

    /// `not_less` with margin m (non-inferiority, `equal`'s lower half): holds when the interval lies above −m;
    /// does not hold when the test rejects with a − b ≤ −m; undecided otherwise. A gain is no degradation, so
    /// unlike `equal` a significant rise holds.
    static func nonInferiority(_ c: Comparison, margin: Double) -> (Outcome, String) {
        let m = TableBuilder.format(margin, 3)
        if c.low > -margin { return (.holds, "the CI lies above −\(m)") }
        if c.p < alpha && c.difference <= -margin { return (.doesNotHold, "p < \(alpha) and a − b ≤ −\(m)") }
        return (.undecided, c.p < alpha ? "p < \(alpha) but a − b > −\(m)" : "p ≥ \(alpha); the CI reaches below −\(m)")
    }
}
