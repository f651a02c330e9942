import XCTest
@testable import Pipeline
import RecipeSpec

/// The three-outcome rule of docs/verdicts.md, on synthetic seeds: with no effect it finds one at
/// about its stated rate; with a large one it holds; each outcome's boundary is where the docs say.
final class VerdictRuleTests: XCTestCase {
    func claim(_ expect: ClaimSpec.Expectation, minEffect: Double? = nil, paired: Bool = false,
               fixedB: Bool = false) -> ClaimSpec {
        ClaimSpec(id: "c", text: "t", a: .init(row: "a", column: "x"), b: .init(row: "b", column: "x", fixed: fixedB),
                  expect: expect, minEffect: minEffect, paired: paired)
    }

    func sample(_ v: [Double]) -> ArmSample { ArmSample(values: v, nodes: v.indices.map { "n\($0)-\(v.count)" }) }

    /// A seeded normal generator (SplitMix64 + Box–Muller), so the rates below are fixed numbers.
    struct Normal {
        var state: UInt64
        mutating func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (Double((z ^ (z >> 31)) >> 11) + 0.5) / Double(1 << 53)
        }
        mutating func next() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
    }

    func outcomes(effect: Double, trials: Int, n: Int = 3, _ c: ClaimSpec) -> [Outcome: Int] {
        var rng = Normal(state: 42), counts: [Outcome: Int] = [:]
        for _ in 0..<trials {
            let a = (0..<n).map { _ in effect + rng.next() }, b = (0..<n).map { _ in rng.next() }
            counts[VerdictRule.judge(c, a: sample(a), b: sample(b)).outcome, default: 0] += 1
        }
        return counts
    }

    func testNoEffectIsFoundAtTheStatedRate() {
        // 3 vs 3 seeds, equal means: "holds" needs p < 0.05 in the claimed direction (rate 2.5 %),
        // "does not hold" p < 0.05 the other way (2.5 %); 4000 trials give a binomial SE of 0.25 %.
        let counts = outcomes(effect: 0, trials: 4000, claim(.greater))
        let holds = Double(counts[.holds, default: 0]) / 4000, against = Double(counts[.doesNotHold, default: 0]) / 4000
        XCTAssertEqual(holds, 0.025, accuracy: 0.01, "\(counts)")
        XCTAssertEqual(against, 0.025, accuracy: 0.01, "\(counts)")
        XCTAssertGreaterThan(counts[.undecided, default: 0], 3700)
    }

    func testLargeEffectHolds() {
        // Ten standard deviations apart over 3 seeds each: Welch rejects essentially always.
        XCTAssertEqual(outcomes(effect: 10, trials: 200, claim(.greater))[.holds], 200)
        XCTAssertEqual(outcomes(effect: 10, trials: 200, claim(.less))[.doesNotHold], 200)
    }

    func testDirectionalOutcomes() {
        let c = claim(.greater, minEffect: 0.05)
        // Clear and large enough.
        XCTAssertEqual(VerdictRule.judge(c, a: sample([0.70, 0.71, 0.72]), b: sample([0.60, 0.61, 0.62])).outcome, .holds)
        // Clear but the whole interval is below the claimed 0.05.
        let small = VerdictRule.judge(c, a: sample([0.610, 0.611, 0.612]), b: sample([0.600, 0.601, 0.602]))
        XCTAssertEqual(small.outcome, .doesNotHold)
        XCTAssertTrue(small.reason.contains("below the claimed"), small.reason)
        // Noisy: cannot reject, and the interval still holds 0.05.
        XCTAssertEqual(VerdictRule.judge(c, a: sample([0.60, 0.70, 0.65]), b: sample([0.62, 0.58, 0.66])).outcome, .undecided)
        // One seed on an arm: undecided, no test.
        let one = VerdictRule.judge(c, a: sample([0.9]), b: sample([0.1, 0.2, 0.1]))
        XCTAssertEqual(one.outcome, .undecided)
        XCTAssertNil(one.comparison)
    }

    func testEquivalenceOutcomes() {
        let c = claim(.equal, minEffect: 0.05)
        XCTAssertEqual(VerdictRule.judge(c, a: sample([0.600, 0.601, 0.602]), b: sample([0.601, 0.602, 0.603])).outcome, .holds)
        XCTAssertEqual(VerdictRule.judge(c, a: sample([0.70, 0.71, 0.72]), b: sample([0.60, 0.61, 0.62])).outcome, .doesNotHold)
        XCTAssertEqual(VerdictRule.judge(c, a: sample([0.60, 0.70, 0.65]), b: sample([0.62, 0.58, 0.66])).outcome, .undecided)
    }

    /// Non-inferiority: a significant gain holds (where `equal` would say "does not hold"), a clear drop beyond the
    /// margin does not, a noisy one is undecided.
    func testNonInferiorityOutcomes() {
        let c = claim(.notLess, minEffect: 0.05)
        let gain = VerdictRule.judge(c, a: sample([0.70, 0.71, 0.72]), b: sample([0.60, 0.61, 0.62]))
        XCTAssertEqual(gain.outcome, .holds)
        XCTAssertEqual(VerdictRule.judge(claim(.equal, minEffect: 0.05), a: sample([0.70, 0.71, 0.72]),
                                         b: sample([0.60, 0.61, 0.62])).outcome, .doesNotHold)
        XCTAssertEqual(VerdictRule.judge(c, a: sample([0.600, 0.601, 0.602]), b: sample([0.601, 0.602, 0.603])).outcome, .holds)
        let drop = VerdictRule.judge(c, a: sample([0.60, 0.61, 0.62]), b: sample([0.70, 0.71, 0.72]))
        XCTAssertEqual(drop.outcome, .doesNotHold, drop.reason)
        // A drop smaller than the margin whose interval reaches below −m: undecided.
        let small = VerdictRule.judge(c, a: sample([0.60, 0.62, 0.64]), b: sample([0.65, 0.66, 0.67]))
        XCTAssertEqual(small.outcome, .undecided, small.reason)
        XCTAssertEqual(VerdictRule.judge(c, a: sample([0.60, 0.70, 0.65]), b: sample([0.62, 0.58, 0.66])).outcome, .undecided)
    }

    func testFixedArmIsAOneSampleTest() {
        let v = VerdictRule.judge(claim(.greater, fixedB: true), a: sample([0.648, 0.616, 0.605]), b: sample([0.601]))
        XCTAssertEqual(v.comparison?.method, .oneSample)
        XCTAssertEqual(v.comparison?.p ?? 0, 0.23016036655385831, accuracy: 1e-9)   // Golden/student_t.csv
        XCTAssertEqual(v.outcome, .undecided)
        // The fixed arm on a: the difference keeps its a − b sign.
        var c = claim(.less)
        c.a.fixed = true
        let w = VerdictRule.judge(c, a: sample([0.601]), b: sample([0.648, 0.616, 0.605]))
        XCTAssertEqual(w.comparison?.difference ?? 0, -0.022, accuracy: 1e-12)
        XCTAssertLessThan(w.comparison?.low ?? 0, w.comparison?.high ?? 0)
    }

    func testRunsSharingANodeCountOnce() {
        let shared = ArmSample(values: [0.7, 0.7, 0.7], nodes: ["rm", "rm", "rm"])
        XCTAssertEqual(shared.n, 1)
        XCTAssertEqual(shared.listed, 3)
        let v = VerdictRule.judge(claim(.greater), a: shared, b: sample([0.6, 0.61, 0.62]))
        XCTAssertEqual(v.outcome, .undecided)
        XCTAssertTrue(v.reason.contains("n = 1 vs 3"), v.reason)
    }

    func testPairedNeedsEqualArms() {
        let v = VerdictRule.judge(claim(.greater, paired: true), a: sample([1, 2, 3]), b: sample([0, 1]))
        XCTAssertNil(v.comparison)
        let w = VerdictRule.judge(claim(.greater, paired: true), a: sample([1.1, 2.11, 3.12]), b: sample([1, 2, 3]))
        XCTAssertEqual(w.comparison?.method, .paired)
        XCTAssertEqual(w.outcome, .holds)
    }
}
