import XCTest
import Tensor
@testable import Optim

final class OptimTests: XCTestCase {
    func testAdamWStepMatchesHandComputation() {
        let w = Parameter(name: "w", shape: [2, 2]), b = Parameter(name: "b", shape: [2])
        w.setValue([1, -2, 0.5, 3]); b.setValue([0.1, -0.1])
        let opt = AdamW(parameters: [w, b], config: AdamWConfig(lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: 0.1))
        let grads1: [Float] = [0.5, -1, 2, 0], grads2: [Float] = [-0.5, 1, 1, 4]
        var p = [1.0, -2, 0.5, 3], m = [0.0, 0, 0, 0], v = [0.0, 0, 0, 0]
        for (t, g) in [grads1, grads2].enumerated() {
            _ = w.grad.update(fromContentsOf: g)
            b.grad.update(repeating: 1)
            opt.step(lr: 0.1)
            for j in 0..<4 {  // torch.optim.AdamW, by hand in Double
                let gj = Double(g[j])
                m[j] = 0.9 * m[j] + 0.1 * gj
                v[j] = 0.95 * v[j] + 0.05 * gj * gj
                let mh = m[j] / (1 - pow(0.9, Double(t + 1))), vh = v[j] / (1 - pow(0.95, Double(t + 1)))
                p[j] = p[j] * (1 - 0.1 * 0.1) - 0.1 * mh / (vh.squareRoot() + 1e-5)
            }
            for j in 0..<4 { XCTAssertEqual(Double(w.value[j]), p[j], accuracy: 1e-6) }
        }
        XCTAssertEqual(opt.stepCount, 2)
        // Vectors are not decayed: two steps of gradient 1 move each entry by exactly lr each step.
        XCTAssertEqual(b.value[0], 0.1 - 0.2, accuracy: 1e-5)
    }

    func testStateRoundTrip() throws {
        let w = Parameter(name: "w", shape: [3])
        let opt = AdamW(parameters: [w], config: AdamWConfig(lr: 0.01))
        w.grad.update(repeating: 0.5)
        opt.step(lr: 0.01)
        let restored = AdamW(parameters: [w], config: AdamWConfig(lr: 0.01))
        try restored.loadState(opt.stateTensors())
        XCTAssertEqual(restored.stateTensors(), opt.stateTensors())
        XCTAssertEqual(restored.stepCount, 1)
        var bad = opt.stateTensors()
        bad["w.exp_avg"] = Tensor(zeros: [4])
        XCTAssertThrowsError(try restored.loadState(bad)) {
            XCTAssertEqual($0 as? OptimError, .stateShapeMismatch(name: "w.exp_avg", expected: [3], found: [4]))
        }
    }

    func testDefaultsFollowPaperTable9() throws {
        let c = try JSONDecoder().decode(AdamWConfig.self, from: Data(#"{"lr": 0.001}"#.utf8))
        XCTAssertEqual(c, AdamWConfig(lr: 0.001, beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: 0))
    }

    func testClipGradNorm() {
        let a = Parameter(name: "a", shape: [2]), b = Parameter(name: "b", shape: [1])
        _ = a.grad.update(fromContentsOf: [3, 0]); b.grad[0] = 4
        XCTAssertEqual(clipGradNorm([a, b], maxNorm: 10), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad[0], 3)  // under the limit: unchanged
        XCTAssertEqual(clipGradNorm([a, b], maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.grad[0], 0.8, accuracy: 1e-5)
    }

    func testScheduleValuesAtKeySteps() {
        let s = LRSchedule.linearWarmupDecay(warmupFraction: 0.1, floorFraction: 0.1)
        // 100 steps: warmup over steps 0..9 reaching the peak at step 9, then decay to 10% at step 99.
        XCTAssertEqual(s.lr(step: 0, totalSteps: 100, peak: 1), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.lr(step: 4, totalSteps: 100, peak: 1), 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.lr(step: 9, totalSteps: 100, peak: 1), 1.0, accuracy: 1e-6)
        XCTAssertEqual(s.lr(step: 10, totalSteps: 100, peak: 1), 1.0, accuracy: 1e-6)
        XCTAssertEqual(s.lr(step: 99, totalSteps: 100, peak: 1), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.lr(step: 10 + 89 / 2, totalSteps: 100, peak: 2), Float(2 * (1 - 0.9 * 44.0 / 89)), accuracy: 1e-5)
        XCTAssertEqual(LRSchedule.constant.lr(step: 57, totalSteps: 100, peak: 3e-4), 3e-4)
        let json = try! JSONEncoder().encode(s)
        XCTAssertEqual(try! JSONDecoder().decode(LRSchedule.self, from: json), s)
    }
}
