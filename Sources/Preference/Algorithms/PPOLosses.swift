import Foundation

/// How a per-token KL(π ‖ π_ref) is estimated from log π and log π_ref of the sampled token.
public enum KLEstimator: String, Codable, Sendable {
    /// k1 = log π − log π_ref (unbiased; what Unpacking Eq. 4 penalises).
    case k1
    /// k2 = ½ (log π − log π_ref)².
    case k2
    /// k3 = (ρ − 1) − log ρ with ρ = π_ref/π (unbiased, always ≥ 0).
    case k3
}

/// PPO pieces as Unpacking App. F.2 defines them; arrays are per response token of one batch.
public enum PPOLosses {
    /// Per-token KL estimates.
    public static func kl(logProbs: [Double], refLogProbs: [Double], estimator: KLEstimator) -> [Double] {
        zip(logProbs, refLogProbs).map { lp, ref in
            let d = lp - ref
            switch estimator {
            case .k1: return d
            case .k2: return 0.5 * d * d
            case .k3: return exp(-d) - 1 + d
            }
        }
    }

    /// Token rewards of one response (Unpacking Eq. 4): r_t = −β(log π − log π_ref), plus `score` on the last token.
    ///
    /// With `clampKL` (AlpacaFarm, Table 10) the per-token penalty uses max(0, log π − log π_ref).
    public static func tokenRewards(logProbs: [Double], refLogProbs: [Double], score: Double,
                                    beta: Double, clampKL: Bool) -> [Double] {
        var r = zip(logProbs, refLogProbs).map { lp, ref in -beta * (clampKL ? max(0, lp - ref) : lp - ref) }
        if !r.isEmpty { r[r.count - 1] += score }
        return r
    }

    /// Generalised advantage estimation over one response: δ_t = r_t + γV_{t+1} − V_t (V after the end is 0),
    /// A_t = δ_t + γλA_{t+1}; returns G_t = A_t + V_t.
    public static func gae(rewards: [Double], values: [Double], gamma: Double, lambda: Double)
        -> (advantages: [Double], returns: [Double]) {
        var adv = [Double](repeating: 0, count: rewards.count)
        var next = 0.0, nextValue = 0.0
        for t in stride(from: rewards.count - 1, through: 0, by: -1) {
            let delta = rewards[t] + gamma * nextValue - values[t]
            next = delta + gamma * lambda * next
            adv[t] = next
            nextValue = values[t]
        }
        return (adv, zip(adv, values).map { $0 + $1 })
    }

    /// (x − mean) / sqrt(var + 1e-8) with the population variance; `shiftMean: false` keeps the mean.
    public static func whiten(_ x: [Double], shiftMean: Bool = true) -> [Double] {
        guard !x.isEmpty else { return x }
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        let scale = 1 / (variance + 1e-8).squareRoot()
        return x.map { shiftMean ? ($0 - mean) * scale : ($0 - mean) * scale + mean }
    }

    /// Clipped policy loss: mean_t −min(ν_t A_t, clip(ν_t, 1−ε, 1+ε) A_t), ν_t = exp(log π − log π_old).
    public static func policyLoss(logProbs: [Double], oldLogProbs: [Double], advantages: [Double], clip: Double)
        -> (loss: Double, dLogProbs: [Double], clipFraction: Double) {
        let n = Double(max(logProbs.count, 1))
        var loss = 0.0, clipped = 0.0
        var d = [Double](repeating: 0, count: logProbs.count)
        for i in logProbs.indices {
            let ratio = exp(logProbs[i] - oldLogProbs[i])
            let a = advantages[i]
            let unclipped = ratio * a
            let bounded = min(max(ratio, 1 - clip), 1 + clip) * a
            if bounded < unclipped {
                // The clipped branch is active and flat in θ: no gradient.
                loss -= bounded
                clipped += 1
            } else {
                loss -= unclipped
                d[i] = -unclipped / n  // d(ν A)/d log π = ν A
            }
        }
        return (loss / n, d, clipped / n)
    }

    /// Clipped value loss: mean_t ½ max((V − G)², (V_old + clip(V − V_old, −ε, ε) − G)²).
    public static func valueLoss(values: [Double], oldValues: [Double], returns: [Double], clip: Double)
        -> (loss: Double, dValues: [Double], clipFraction: Double) {
        let n = Double(max(values.count, 1))
        var loss = 0.0, clipped = 0.0
        var d = [Double](repeating: 0, count: values.count)
        for i in values.indices {
            let delta = values[i] - oldValues[i]
            let vClip = oldValues[i] + min(max(delta, -clip), clip)
            let e1 = values[i] - returns[i], e2 = vClip - returns[i]
            if e2 * e2 > e1 * e1 {
                loss += 0.5 * e2 * e2
                clipped += 1
                // vClip moves with V only inside the clip range.
                if abs(delta) < clip { d[i] = e2 / n }
            } else {
                loss += 0.5 * e1 * e1
                d[i] = e1 / n
            }
        }
        return (loss / n, d, clipped / n)
    }
}
