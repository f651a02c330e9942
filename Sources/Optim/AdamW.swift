import Foundation
import Tensor

/// AdamW hyper-parameters; defaults follow the Unpacking DPO/PPO paper, Table 9.
public struct AdamWConfig: Codable, Sendable, Equatable {
    /// Peak learning rate (schedules scale it per step).
    public var lr: Float
    /// Decay of the first-moment average.
    public var beta1: Float
    /// Decay of the second-moment average.
    public var beta2: Float
    /// Added to the root second moment.
    public var eps: Float
    /// Decoupled weight decay, applied to matrices (rank >= 2) only, not to norms or biases.
    public var weightDecay: Float

    public init(lr: Float, beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-5, weightDecay: Float = 0) {
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    private enum CodingKeys: String, CodingKey { case lr, beta1, beta2, eps, weightDecay }

    /// Decodes; every field but lr may be omitted.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(lr: try c.decode(Float.self, forKey: .lr),
                  beta1: try c.decodeIfPresent(Float.self, forKey: .beta1) ?? 0.9,
                  beta2: try c.decodeIfPresent(Float.self, forKey: .beta2) ?? 0.95,
                  eps: try c.decodeIfPresent(Float.self, forKey: .eps) ?? 1e-5,
                  weightDecay: try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? 0)
    }
}

/// Errors from restoring optimiser state.
public enum OptimError: Error, CustomStringConvertible, Equatable {
    case missingState(String)
    case stateShapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingState(let n): return "optimiser state: missing tensor '\(n)'"
        case let .stateShapeMismatch(n, e, f): return "optimiser state '\(n)': expected shape \(e), found \(f)"
        }
    }
}

/// AdamW (decoupled weight decay, bias-corrected moments) over a list of parameters.
public final class AdamW {
    public let parameters: [Parameter]
    public var config: AdamWConfig
    /// Number of steps taken (bias correction uses it).
    public var stepCount: Int = 0
    private var m: [[Float]]  // per parameter, (count) first moments
    private var v: [[Float]]  // per parameter, (count) second moments

    public init(parameters: [Parameter], config: AdamWConfig) {
        self.parameters = parameters
        self.config = config
        m = parameters.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    /// One update with learning rate `lr` from the accumulated gradients (which it leaves untouched).
    public func step(lr: Float) {
        stepCount += 1
        let c = config, t = Float(stepCount)
        let bc1 = 1 - pow(c.beta1, t), bc2 = 1 - pow(c.beta2, t)
        for (i, p) in parameters.enumerated() {
            let decay: Float = p.shape.count >= 2 ? 1 - lr * c.weightDecay : 1
            let val = p.value, grad = p.grad
            m[i].withUnsafeMutableBufferPointer { mm in
                v[i].withUnsafeMutableBufferPointer { vv in
                    for j in 0..<p.count {
                        let g = grad[j]
                        mm[j] = c.beta1 * mm[j] + (1 - c.beta1) * g
                        vv[j] = c.beta2 * vv[j] + (1 - c.beta2) * g * g
                        let mHat = mm[j] / bc1, vHat = vv[j] / bc2
                        val[j] = val[j] * decay - lr * mHat / (vHat.squareRoot() + c.eps)
                    }
                }
            }
        }
    }

    /// Moments as "<name>.exp_avg" / "<name>.exp_avg_sq" plus "step" (shape [1]) for checkpoints.
    public func stateTensors() -> [String: Tensor] {
        var out: [String: Tensor] = ["step": Tensor(shape: [1], data: [Float(stepCount)])]
        for (i, p) in parameters.enumerated() {
            out[p.name + ".exp_avg"] = Tensor(shape: p.shape, data: m[i])
            out[p.name + ".exp_avg_sq"] = Tensor(shape: p.shape, data: v[i])
        }
        return out
    }

    /// Restores what `stateTensors()` wrote; checks every name and shape before changing anything.
    public func loadState(_ state: [String: Tensor]) throws {
        guard let step = state["step"] else { throw OptimError.missingState("step") }
        if step.shape != [1] { throw OptimError.stateShapeMismatch(name: "step", expected: [1], found: step.shape) }
        for p in parameters {
            for key in [p.name + ".exp_avg", p.name + ".exp_avg_sq"] {
                guard let t = state[key] else { throw OptimError.missingState(key) }
                if t.shape != p.shape { throw OptimError.stateShapeMismatch(name: key, expected: p.shape, found: t.shape) }
            }
        }
        stepCount = Int(step.data[0])
        for (i, p) in parameters.enumerated() {
            m[i] = state[p.name + ".exp_avg"]!.data
            v[i] = state[p.name + ".exp_avg_sq"]!.data
        }
    }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`; returns the norm before clipping.
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var sq: Double = 0
    for p in parameters {
        var s: Float = 0
        let g = p.grad  // one view per tensor: `grad` is computed (it checks the model holds gradients)
        for j in 0..<p.count { s += g[j] * g[j] }
        sq += Double(s)
    }
    let norm = Float(sq.squareRoot())
    if norm > maxNorm && norm > 0 {
        let k = maxNorm / (norm + 1e-6)
        for p in parameters {
            let g = p.grad
            for j in 0..<p.count { g[j] *= k }
        }
    }
    return norm
}

/// Learning-rate schedules over a run of `totalSteps` optimiser steps (step is 0-based).
public enum LRSchedule: Codable, Sendable, Equatable {
    /// The peak learning rate at every step.
    case constant
    /// Linear warmup over ceil(warmupFraction * totalSteps) steps to the peak, then linear decay
    /// to floorFraction * peak at the last step.
    case linearWarmupDecay(warmupFraction: Double, floorFraction: Double)

    /// The learning rate at `step` in 0..<totalSteps.
    public func lr(step: Int, totalSteps: Int, peak: Float) -> Float {
        switch self {
        case .constant:
            return peak
        case let .linearWarmupDecay(warmupFraction, floorFraction):
            let warm = Int((warmupFraction * Double(totalSteps)).rounded(.up))
            if step < warm { return peak * Float(step + 1) / Float(warm) }
            let span = max(1, totalSteps - 1 - warm)
            let progress = min(1, Double(step - warm) / Double(span))
            return peak * Float(1 - (1 - floorFraction) * progress)
        }
    }
}
