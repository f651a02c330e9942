import Foundation
import XCTest
@testable import Preference
import Tensor
import Llama

/// Trainers under bad settings and interruptions (issue 16): absurd numbers fail cleanly, divergence
/// is an error, and a resumed run's curves are complete.
final class ReliabilityTrainerTests: XCTestCase {
    private let demos = Toy.task.demonstrations(count: 24, seed: 31)

    private func sft(_ edit: (inout SFTTrainer.Parameters) -> Void) -> SFTTrainer {
        var p = SFTTrainer.Parameters()
        p.learningRate = 1e-2
        p.batchSize = 8
        p.epochs = 1
        edit(&p)
        return SFTTrainer(p)
    }

    /// `epochs: 9223372036854775807` used to overflow `stepsPerEpoch * epochs` and abort the process.
    func testHugeEpochCountIsAnErrorNotACrash() {
        XCTAssertThrowsError(try sft { $0.epochs = Int.max }.train(policy: Toy.policy(seed: 4), examples: demos)) { error in
            XCTAssertTrue("\(error)".contains("epochs"), "\(error)")
        }
        // Within the integer bound but too many steps in total.
        XCTAssertThrowsError(try sft { $0.epochs = 999_999_999 }.train(policy: Toy.policy(seed: 4), examples: demos)) { error in
            XCTAssertTrue("\(error)".contains("total steps"), "\(error)")
        }
    }

    /// NaN and infinite settings are refused before training (`NaN > 0` is false, but `inf > 0` is true).
    func testNonFiniteSettingsAreRefused() {
        for bad in [Double.nan, .infinity] {
            XCTAssertThrowsError(try sft { $0.learningRate = bad }.train(policy: Toy.policy(seed: 4), examples: demos))
            XCTAssertThrowsError(try sft { $0.maxGradNorm = bad }.train(policy: Toy.policy(seed: 4), examples: demos)) { error in
                XCTAssertTrue("\(error)".contains("finite"), "\(error)")
            }
        }
    }

    /// A learning rate of 1e30 trains to NaN: the trainer stops with `diverged` (step and value), it does
    /// not report success with NaN weights.
    func testDivergenceIsAnError() {
        var reported: [[String: Double]] = []
        let control = TrainingControl(reporter: { _, _, v in reported.append(v) })
        XCTAssertThrowsError(try sft { $0.learningRate = 1e30; $0.epochs = 3; $0.maxGradNorm = 0 }
            .train(policy: Toy.policy(seed: 4), examples: demos, control: control)) { error in
            guard case let .diverged(trainer, step, metric, value)? = error as? TrainingError else {
                return XCTFail("not diverged: \(error)")
            }
            XCTAssertEqual(trainer, "sft")
            XCTAssertFalse(value.isFinite)
            XCTAssertEqual(step, reported.count)
            XCTAssertFalse(reported.last?[metric]?.isFinite ?? true)
            XCTAssertTrue("\(error)".hasPrefix("diverged:"))
        }
    }

    /// Interrupted after 5 of 9 steps (checkpoint at 4) and resumed: the resumed run reports steps 1...9,
    /// the restored ones with the values of the first attempt, logs where it resumed, and its final values
    /// are those of an uninterrupted run. Resuming a run whose last checkpoint is its end still returns
    /// the last values (the summary a kill before the commit used to lose).
    func testResumeReplaysTheWholeCurve() throws {
        let trainer = sft { $0.epochs = 3 }
        var full: [(Int, Double)] = []
        _ = try trainer.train(policy: Toy.policy(seed: 4), examples: demos,
                              control: TrainingControl(reporter: { s, _, v in full.append((s, v["loss"] ?? .nan)) }))
        let dir = Toy.temporaryDirectory("resume-curve")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try trainer.train(policy: Toy.policy(seed: 4), examples: demos,
                              control: TrainingControl(resumeDirectory: dir, checkpointEvery: 4, shouldStop: { $0 == 5 }))
        var resumed: [(Int, Double)] = []
        var logs: [String] = []
        let outcome = try trainer.train(policy: Toy.policy(seed: 4), examples: demos,
                                        control: TrainingControl(reporter: { s, _, v in resumed.append((s, v["loss"] ?? .nan)) },
                                                                 resumeDirectory: dir, checkpointEvery: 4, log: { logs.append($0) }))
        XCTAssertEqual(outcome.resumedFromStep, 4)
        XCTAssertEqual(resumed.map(\.0), Array(1...9))
        XCTAssertEqual(resumed.map(\.1), full.map(\.1))
        XCTAssertTrue(logs.contains { $0.hasPrefix("resumed from step 4") }, "\(logs)")

        // The final checkpoint is the end of training; a rerun (killed before its commit) restores it.
        var again: [Int] = []
        let rerun = try trainer.train(policy: Toy.policy(seed: 4), examples: demos,
                                      control: TrainingControl(reporter: { s, _, _ in again.append(s) }, resumeDirectory: dir))
        XCTAssertEqual(rerun.resumedFromStep, 9)
        XCTAssertEqual(again, Array(1...9))
        XCTAssertEqual(rerun.lastValues["loss"], full.last?.1)
    }

    /// A snapshot directory left half-written by a killed save is removed by the next save.
    func testPartialCheckpointsDoNotPileUp() throws {
        let dir = Toy.temporaryDirectory("partial-ckpt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = ResumeStore(directory: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".tmp-step-00000003"), withIntermediateDirectories: true)
        try store.save(step: 4, groups: ["g": ["w": Tensor(shape: [2], data: [1, 2])]], progress: Data("{}".utf8))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(names, ["LATEST", "step-00000004"])
    }
}

/// A micro-batch whose activations exceed the machine's memory is an error thrown before anything is
/// allocated (it used to abort the whole process), naming the keys to lower.
final class MemoryCheckTrainerTests: XCTestCase {
    func testADPOMicroBatchBeyondTheMachinesMemoryFailsBeforeAllocating() throws {
        // 65,536-token pairs: one forward of 8 rows needs hundreds of GB, more than any test machine has.
        let config = LlamaConfig(vocabSize: ByteCodec.vocabSize, dModel: 16, nLayers: 4, nHeads: 2, nKVHeads: 2,
                                 hidden: 32, maxSeqLen: 65_536)
        let policy = try Policy(model: LlamaModel(config: config, head: .lm, seed: 1), codec: ByteCodec())
        let long = String(repeating: "ab", count: 32_000)
        let pairs = (0..<4).map { PreferencePair(prompt: Prompt("x\($0)"), chosen: long, rejected: long + "a") }
        var p = DPOTrainer.Parameters()
        p.batchSize = 4
        p.microBatch = 4
        let need = policy.model.activationBytes(batch: 8, seqLen: 64_003, training: true)
        let available = try XCTUnwrap(SystemMemory.availableBytes())
        XCTAssertGreaterThan(need, available, "the test needs a batch beyond this machine")
        let t0 = Date()
        XCTAssertThrowsError(try DPOTrainer(p).train(policy: policy, pairs: pairs)) { error in
            XCTAssert(error is ActivationMemoryError, "\(type(of: error)): \(error)")
            XCTAssert("\(error)".contains("micro_batch"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 30, "refused up front, not after allocating")
    }
}
