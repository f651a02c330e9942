import XCTest
@testable import Preference

/// Hand-computed values and finite-difference gradients of every loss.
final class LossTests: XCTestCase {
    /// Central finite difference of f at x along coordinate i.
    private func numericGradient(_ f: ([Double]) -> Double, _ x: [Double], _ i: Int, h: Double = 1e-6) -> Double {
        var a = x, b = x
        a[i] += h
        b[i] -= h
        return (f(a) - f(b)) / (2 * h)
    }

    func testSFTNLLOnResponseTokensOnly() {
        // Mask keeps positions 1 and 2: loss = −(−2 + −3)/2 = 2.5; d = −1/2 on those positions, 0 elsewhere.
        let (loss, d) = Losses.sftNLL(tokenLogProbs: [-1, -2, -3, -0.5], mask: [false, true, true, false])
        XCTAssertEqual(loss, 2.5, accuracy: 1e-12)
        XCTAssertEqual(d, [0, -0.5, -0.5, 0])
    }

    func testBradleyTerryByHand() {
        // Margins 1 and −2. −log σ(1) = log(1 + e^−1) = 0.31326169; −log σ(−2) = log(1 + e^2) = 2.12692801.
        // Mean = 1.22009485. dChosen[0] = −σ(−1)/2 = −0.26894142/2 = −0.13447071. One of two ordered right.
        let r = Losses.bradleyTerry(chosen: [1, 0], rejected: [0, 2])
        XCTAssertEqual(r.loss, 1.22009485, accuracy: 1e-7)
        XCTAssertEqual(r.dChosen[0], -0.13447071, accuracy: 1e-7)
        XCTAssertEqual(r.dRejected[0], 0.13447071, accuracy: 1e-7)
        XCTAssertEqual(r.accuracy, 0.5)
    }

    func testBradleyTerryGradientsMatchFiniteDifferences() {
        let c = [0.3, -1.2, 2.0], rj = [0.1, 0.5, -0.7]
        let r = Losses.bradleyTerry(chosen: c, rejected: rj)
        for i in 0..<3 {
            XCTAssertEqual(r.dChosen[i], numericGradient({ Losses.bradleyTerry(chosen: $0, rejected: rj).loss }, c, i), accuracy: 1e-7)
            XCTAssertEqual(r.dRejected[i], numericGradient({ Losses.bradleyTerry(chosen: c, rejected: $0).loss }, rj, i), accuracy: 1e-7)
        }
    }

    /// One pair: log π(y_c) = −10, log π(y_r) = −12, log π_ref = −11 for both; |y_c| = 4, |y_r| = 6.
    private func onePair(_ o: DPOLossOptions) -> DPOLossResult {
        Losses.dpo(policyChosen: [-10], policyRejected: [-12], referenceChosen: [-11], referenceRejected: [-11],
                   chosenLengths: [4], rejectedLengths: [6], options: o)
    }

    func testDPOSigmoidByHand() {
        // β = 0.1: β·h = 0.1·((−10 + 11) − (−12 + 11)) = 0.2. Loss = log(1 + e^−0.2) = 0.59813887.
        // dL/dlog π(y_c) = −σ(−0.2)·β = −0.45016600·0.1 = −0.04501660; rejected gets the opposite.
        let r = onePair(DPOLossOptions(kind: .sigmoid, beta: 0.1))
        XCTAssertEqual(r.loss, 0.59813887, accuracy: 1e-7)
        XCTAssertEqual(r.dChosen[0], -0.04501660, accuracy: 1e-7)
        XCTAssertEqual(r.dRejected[0], 0.04501660, accuracy: 1e-7)
        XCTAssertEqual(r.chosenRewards[0], 0.1, accuracy: 1e-12)
        XCTAssertEqual(r.rejectedRewards[0], -0.1, accuracy: 1e-12)
        XCTAssertEqual(r.accuracy, 1)
    }

    func testIPOByHand() {
        // h = 2, target 1/(2β) = 5: loss (2 − 5)² = 9; dL/dlog π(y_c) = 2(h − 5) = −6.
        let r = onePair(DPOLossOptions(kind: .ipo, beta: 0.1))
        XCTAssertEqual(r.loss, 9, accuracy: 1e-9)
        XCTAssertEqual(r.dChosen[0], -6, accuracy: 1e-9)
    }

    func testConservativeDPOByHand() {
        // ε = 0.1: 0.9·log(1 + e^−0.2) + 0.1·log(1 + e^0.2) = 0.9·0.59813887 + 0.1·0.79813887 = 0.61813887.
        let r = onePair(DPOLossOptions(kind: .conservative, beta: 0.1, labelSmoothing: 0.1))
        XCTAssertEqual(r.loss, 0.61813887, accuracy: 1e-7)
    }

    func testSimPOByHand() {
        // β = 2, γ = 0.5: rewards 2/4·(−10) = −5 and 2/6·(−12) = −4; margin −1 − 0.5 = −1.5;
        // loss log(1 + e^1.5) = 1.70141328; the reference plays no part.
        let r = onePair(DPOLossOptions(kind: .simpo, beta: 2, simpoGamma: 0.5))
        XCTAssertEqual(r.loss, 1.70141328, accuracy: 1e-7)
        XCTAssertEqual(r.chosenRewards[0], -5, accuracy: 1e-12)
        XCTAssertEqual(r.accuracy, 0)
    }

    func testDPOFamilyGradientsMatchFiniteDifferences() {
        let pc = [-10.0, -3.2, -7.5], pr = [-12.0, -2.9, -7.0], rc = [-11.0, -3.0, -7.4], rr = [-11.0, -3.1, -7.2]
        let lc = [4, 2, 5], lr = [6, 3, 5]
        for kind in DPOLossKind.allCases {
            let o = DPOLossOptions(kind: kind, beta: kind == .simpo ? 2 : 0.1, labelSmoothing: 0.2, simpoGamma: 0.5)
            let r = Losses.dpo(policyChosen: pc, policyRejected: pr, referenceChosen: rc, referenceRejected: rr,
                               chosenLengths: lc, rejectedLengths: lr, options: o)
            for i in 0..<3 {
                let fc: ([Double]) -> Double = {
                    Losses.dpo(policyChosen: $0, policyRejected: pr, referenceChosen: rc, referenceRejected: rr,
                               chosenLengths: lc, rejectedLengths: lr, options: o).loss
                }
                let fr: ([Double]) -> Double = {
                    Losses.dpo(policyChosen: pc, policyRejected: $0, referenceChosen: rc, referenceRejected: rr,
                               chosenLengths: lc, rejectedLengths: lr, options: o).loss
                }
                XCTAssertEqual(r.dChosen[i], numericGradient(fc, pc, i), accuracy: 1e-6, "\(kind) chosen \(i)")
                XCTAssertEqual(r.dRejected[i], numericGradient(fr, pr, i), accuracy: 1e-6, "\(kind) rejected \(i)")
            }
        }
    }

    func testTokenRewardsEquation4() {
        // β = 0.05, log π = [−1, −2], log π_ref = [−1.5, −1], score 2:
        // r_0 = −0.05·0.5 = −0.025; r_1 = −0.05·(−1) + 2 = 2.05. Clamped: max(0, −1) = 0, so r_1 = 2.
        let r = PPOLosses.tokenRewards(logProbs: [-1, -2], refLogProbs: [-1.5, -1], score: 2, beta: 0.05, clampKL: false)
        XCTAssertEqual(r[0], -0.025, accuracy: 1e-12)
        XCTAssertEqual(r[1], 2.05, accuracy: 1e-12)
        let c = PPOLosses.tokenRewards(logProbs: [-1, -2], refLogProbs: [-1.5, -1], score: 2, beta: 0.05, clampKL: true)
        XCTAssertEqual(c[1], 2, accuracy: 1e-12)
    }

    func testGAEByHand() {
        // γ = 1, λ = 0.95, rewards [0, 0, 1], values 0.5 each (V after the end = 0):
        // δ_2 = 1 − 0.5 = 0.5, A_2 = 0.5; δ_1 = 0, A_1 = 0.95·0.5 = 0.475; δ_0 = 0, A_0 = 0.95·0.475 = 0.45125.
        // Returns A + V = [0.95125, 0.975, 1.0].
        let g = PPOLosses.gae(rewards: [0, 0, 1], values: [0.5, 0.5, 0.5], gamma: 1, lambda: 0.95)
        for (a, b) in zip(g.advantages, [0.45125, 0.475, 0.5]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        for (a, b) in zip(g.returns, [0.95125, 0.975, 1.0]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    func testWhitening() {
        // [1, 2, 3]: mean 2, population variance 2/3, so ±1/sqrt(2/3) = ±1.22474487.
        let w = PPOLosses.whiten([1, 2, 3])
        XCTAssertEqual(w[0], -1.22474487, accuracy: 1e-6)
        XCTAssertEqual(w[1], 0, accuracy: 1e-12)
        let kept = PPOLosses.whiten([1, 2, 3], shiftMean: false)
        XCTAssertEqual(kept[1], 2, accuracy: 1e-12)
    }

    func testClippedPolicyLossByHand() {
        // Ratio 1.5 (log-ratio ln 1.5). A = +1: min(1.5, 1.2) = 1.2 → loss −1.2, clipped, no gradient.
        // A = −1: min(−1.5, −1.2) = −1.5 → loss +1.5, gradient −ν·A/n = 1.5/2. Mean loss (−1.2 + 1.5)/2 = 0.15.
        let lr = log(1.5)
        let r = PPOLosses.policyLoss(logProbs: [lr, lr], oldLogProbs: [0, 0], advantages: [1, -1], clip: 0.2)
        XCTAssertEqual(r.loss, 0.15, accuracy: 1e-12)
        XCTAssertEqual(r.dLogProbs[0], 0, accuracy: 1e-12)
        XCTAssertEqual(r.dLogProbs[1], 0.75, accuracy: 1e-12)
        XCTAssertEqual(r.clipFraction, 0.5)
    }

    func testClippedValueLossByHand() {
        // V = 1, V_old = 0.5, G = 0: unclipped (1)² beats clipped (0.7)² → loss ½, d = 1.
        // V = 0.9, V_old = 0.5, G = 1: clipped V 0.7 gives (0.3)² > (0.1)² → loss 0.045, d = 0 (outside the range).
        let r = PPOLosses.valueLoss(values: [1, 0.9], oldValues: [0.5, 0.5], returns: [0, 1], clip: 0.2)
        XCTAssertEqual(r.loss, (0.5 + 0.045) / 2, accuracy: 1e-12)
        XCTAssertEqual(r.dValues[0], 0.5, accuracy: 1e-12)
        XCTAssertEqual(r.dValues[1], 0, accuracy: 1e-12)
    }

    func testPPOLossGradientsMatchFiniteDifferences() {
        let old = [-1.0, -2.0, -0.5, -3.0], adv = [0.7, -1.3, 0.4, -0.2]
        let lp = [-0.95, -2.05, -0.45, -3.1]  // ratios within (0.8, 1.2) or clipped away from the kink
        let r = PPOLosses.policyLoss(logProbs: lp, oldLogProbs: old, advantages: adv, clip: 0.2)
        for i in 0..<4 {
            let n = numericGradient({ PPOLosses.policyLoss(logProbs: $0, oldLogProbs: old, advantages: adv, clip: 0.2).loss }, lp, i)
            XCTAssertEqual(r.dLogProbs[i], n, accuracy: 1e-6)
        }
        let v = [0.3, 1.4, -0.2], vOld = [0.25, 1.0, 0.0], ret = [1.0, 0.0, -0.1]
        let vr = PPOLosses.valueLoss(values: v, oldValues: vOld, returns: ret, clip: 0.2)
        for i in 0..<3 {
            let n = numericGradient({ PPOLosses.valueLoss(values: $0, oldValues: vOld, returns: ret, clip: 0.2).loss }, v, i)
            XCTAssertEqual(vr.dValues[i], n, accuracy: 1e-6)
        }
    }

    func testKLEstimators() {
        // d = log π − log π_ref = 0.5: k1 = 0.5, k2 = 0.125, k3 = e^−0.5 − 1 + 0.5 = 0.10653066.
        XCTAssertEqual(PPOLosses.kl(logProbs: [-1], refLogProbs: [-1.5], estimator: .k1)[0], 0.5, accuracy: 1e-12)
        XCTAssertEqual(PPOLosses.kl(logProbs: [-1], refLogProbs: [-1.5], estimator: .k2)[0], 0.125, accuracy: 1e-12)
        XCTAssertEqual(PPOLosses.kl(logProbs: [-1], refLogProbs: [-1.5], estimator: .k3)[0], 0.10653066, accuracy: 1e-8)
    }
}
