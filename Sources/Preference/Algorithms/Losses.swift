import Foundation
import Hyperparameters

/// Losses of supervised and preference training: pure functions returning the loss and its gradients.
///
/// Every loss is a mean over the batch, so its gradients carry the 1/B factor.
public enum Losses {
    /// log σ(x), stable for large |x|.
    public static func logSigmoid(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }

    /// σ(x).
    public static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    /// SFT negative log-likelihood: −mean of log p over the masked (response) tokens.
    ///
    /// - Returns: the loss and dLoss/dlogp (B, T), −1/N on masked positions and 0 elsewhere.
    public static func sftNLL(tokenLogProbs: [Float], mask: [Bool]) -> (loss: Double, dTokenLogProbs: [Float]) {
        let n = mask.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard n > 0 else { return (0, [Float](repeating: 0, count: tokenLogProbs.count)) }
        var loss = 0.0
        var d = [Float](repeating: 0, count: tokenLogProbs.count)  // (B, T)
        for i in tokenLogProbs.indices where mask[i] {
            loss -= Double(tokenLogProbs[i])
            d[i] = Float(-1.0 / Double(n))
        }
        return (loss / Double(n), d)
    }

    /// Bradley–Terry reward-model loss (Unpacking Eq. 1): −mean log σ(R(x, y_c) − R(x, y_r)).
    public static func bradleyTerry(chosen: [Double], rejected: [Double])
        -> (loss: Double, dChosen: [Double], dRejected: [Double], accuracy: Double) {
        let n = Double(max(chosen.count, 1))
        var loss = 0.0, correct = 0.0
        var dc = [Double](repeating: 0, count: chosen.count), dr = dc
        for i in chosen.indices {
            let m = chosen[i] - rejected[i]
            loss -= logSigmoid(m)
            // d(−log σ(m))/dm = −σ(−m)
            let g = -sigmoid(-m) / n
            dc[i] = g
            dr[i] = -g
            if m > 0 { correct += 1 }
        }
        return (loss / n, dc, dr, correct / n)
    }
}





/// The value and gradients of a DPO-family loss on a batch of pairs.
public struct DPOLossResult: Sendable {
    /// Mean loss over the batch.
    public var loss: Double
    /// dLoss / d log π(y_c | x), per pair.
    public var dChosen: [Double]
    /// dLoss / d log π(y_r | x), per pair.
    public var dRejected: [Double]
    /// Implicit rewards of the chosen responses (β log π/π_ref; β/|y| log π for SimPO).
    public var chosenRewards: [Double]
    /// Implicit rewards of the rejected responses.
    public var rejectedRewards: [Double]
    /// Fraction of pairs whose chosen implicit reward is higher.
    public var accuracy: Double
    /// Mean of chosen − rejected implicit reward.
    public var margin: Double
}

extension Losses {
    /// The DPO-family loss on sequence log-probs (policy and cached reference) of chosen and rejected responses.
    ///
    /// `chosenLengths`/`rejectedLengths` (response tokens) are used only by SimPO; reference values are ignored by SimPO.
    public static func dpo(policyChosen: [Double], policyRejected: [Double],
                           referenceChosen: [Double], referenceRejected: [Double],
                           chosenLengths: [Int], rejectedLengths: [Int], options o: DPOLossOptions) -> DPOLossResult {
        let count = policyChosen.count
        let n = Double(max(count, 1))
        var r = DPOLossResult(loss: 0, dChosen: Array(repeating: 0, count: count), dRejected: Array(repeating: 0, count: count),
                              chosenRewards: [], rejectedRewards: [], accuracy: 0, margin: 0)
        for i in 0..<count {
            // Per-pair reward of each side and the side-to-reward slopes (for the chain rule).
            let (rc, rr, sc, sr): (Double, Double, Double, Double)
            if o.kind == .simpo {
                sc = o.beta / Double(max(chosenLengths[i], 1))
                sr = o.beta / Double(max(rejectedLengths[i], 1))
                (rc, rr) = (sc * policyChosen[i], sr * policyRejected[i])
            } else {
                (sc, sr) = (o.beta, o.beta)
                rc = o.beta * (policyChosen[i] - referenceChosen[i])
                rr = o.beta * (policyRejected[i] - referenceRejected[i])
            }
            let m = rc - rr  // β·h, or the SimPO margin before γ
            let (loss, dm): (Double, Double)
            switch o.kind {
            case .sigmoid:
                (loss, dm) = (-logSigmoid(m), -sigmoid(-m))
            case .conservative:
                let e = o.labelSmoothing
                loss = -(1 - e) * logSigmoid(m) - e * logSigmoid(-m)
                dm = -(1 - e) * sigmoid(-m) + e * sigmoid(m)
            case .ipo:
                // IPO regresses the unscaled log-ratio gap h = m/β onto 1/(2β).
                let h = m / o.beta, target = 1 / (2 * o.beta)
                loss = (h - target) * (h - target)
                dm = 2 * (h - target) / o.beta
            case .simpo:
                (loss, dm) = (-logSigmoid(m - o.simpoGamma), -sigmoid(-(m - o.simpoGamma)))
            }
            r.loss += loss / n
            r.dChosen[i] = dm * sc / n
            r.dRejected[i] = -dm * sr / n
            r.chosenRewards.append(rc)
            r.rejectedRewards.append(rr)
            if m > 0 { r.accuracy += 1 / n }
            r.margin += m / n
        }
        return r
    }
}
