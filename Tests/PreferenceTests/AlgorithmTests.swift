import Foundation
import Llama
import Tensor
import XCTest
import RecipeSpec
@testable import Preference
import Randomness

/// Policy glue and the offline trainers (SFT, reward model, DPO) on tiny byte-level models.
final class AlgorithmTests: XCTestCase {
    func testEncodedBatchMarksResponseAndFitsWindow() throws {
        let items = [SequencePair(prompt: [1, 2, 3], response: [4, 5]), SequencePair(prompt: [7], response: [8, 9, 10, 11])]
        let enc = try EncodedBatch(items, pad: 0, maxSeqLen: 4)
        // Row 0 keeps prompt [2, 3] (cut on the left) + response [4, 5]; row 1 keeps [7] + [8, 9, 10].
        XCTAssertEqual(enc.batch.tokens, [2, 3, 4, 5, 7, 8, 9, 10])
        XCTAssertEqual(enc.responseStart, [2, 1])
        XCTAssertEqual(enc.responseLength, [2, 3])
        XCTAssertEqual(enc.responseSums([0, 0, 1, 2, 0, 3, 4, 5]), [3, 12])
        XCTAssertThrowsError(try EncodedBatch([SequencePair(prompt: [], response: [1])], pad: 0, maxSeqLen: 4))
    }

    func testSequenceLogProbsSumTheResponseTokens() throws {
        let policy = Toy.policy()
        let pair = policy.pair(Prompt("xy"), "ab")  // prompt [x, y, 258], response [a, b, EOS]
        let seq = try policy.sequenceLogProbs([pair])[0]
        let enc = try policy.encode([pair])
        let tok = policy.model.tokenLogProbs(enc.batch, keepActivations: false)
        XCTAssertEqual(enc.responseStart, [3])
        XCTAssertEqual(seq, Double(tok[3]) + Double(tok[4]) + Double(tok[5]), accuracy: 1e-5)
        // An untrained model over 259 ids puts about 1/259 on each token.
        XCTAssertEqual(seq / 3, -log(259.0), accuracy: 0.5)
    }

    func testPolicyBackwardMatchesFiniteDifferences() throws {
        let policy = Toy.policy(seed: 9)
        let pairs = [policy.pair(Prompt("x"), "abc"), policy.pair(Prompt("yz"), "d")]
        let weights = [0.7, -1.3]
        func objective() throws -> Double { zip(try policy.sequenceLogProbs(pairs), weights).reduce(0) { $0 + $1.0 * $1.1 } }
        let enc = try policy.encode(pairs)
        policy.model.zeroGradients()
        _ = policy.tokenLogProbsForTraining(enc)
        try policy.backward(enc, dSequence: weights)
        // The three largest gradient entries of the embedding table, checked against central differences.
        let p = policy.model.parameters[0]
        let top = (0..<p.count).sorted { abs(p.grad[$0]) > abs(p.grad[$1]) }.prefix(3)
        for i in top {
            let v = p.value[i], h: Float = 1e-2
            p.value[i] = v + h
            let up = try objective()
            p.value[i] = v - h
            let down = try objective()
            p.value[i] = v
            let numeric = (up - down) / Double(2 * h)
            XCTAssertEqual(Double(p.grad[i]), numeric, accuracy: 0.05 * abs(numeric) + 1e-3, "entry \(i)")
        }
    }

    func testSamplingSharesTheWindowBetweenPromptAndResponse() throws {
        let policy = Toy.policy()
        var rng = SeededRandom(seed: 3)
        let long = [Int32](repeating: 120, count: 20) + [258]
        // Window 24, prompt 21: the response keeps half the window (12), the prompt its last 12 tokens.
        let s = try policy.sample([long, [7, 258]], maxNewTokens: 1024, temperature: 1, topP: 1, rng: &rng)
        XCTAssertEqual(s[0].pair.prompt, Array(long.suffix(12)))
        XCTAssertEqual(s[1].pair.prompt, [7, 258])
        for x in s {
            XCTAssertLessThanOrEqual(x.pair.response.count, 12)
            XCTAssertEqual(x.hitLengthLimit, x.pair.response.last != 256)
            XCTAssertEqual(x.hitLengthLimit, x.pair.response.count == 12 && x.pair.response.last != 256)
        }
    }

    func testResumeStoreKeepsOnlyTheLatestSnapshot() throws {
        let dir = Toy.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = ResumeStore(directory: dir)
        XCTAssertNil(try store.latest())
        let t = Tensor(shape: [2], data: [1.5, -2])
        try store.save(step: 3, groups: ["model.policy": ["w": t]], progress: Data(#"{"step":3}"#.utf8))
        try store.save(step: 6, groups: ["model.policy": ["w": Tensor(shape: [2], data: [0, 1])]], progress: Data("{}".utf8))
        let snap = try XCTUnwrap(try store.latest())
        XCTAssertEqual(snap.step, 6)
        XCTAssertEqual(snap.groups["model.policy"]?["w"]?.data, [0, 1])
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(entries, ["LATEST", "step-00000006"])
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("LATEST"))
        XCTAssertThrowsError(try store.latest())
    }

    func testSFTLearnsTheDemonstrationFormat() throws {
        let demos = Toy.task.demonstrations(count: 32, seed: 77)
        let before = try Toy.policy().sequenceLogProbs(demos.map { Toy.policy().pair($0.prompt, $0.response) })
        let sft = Toy.sftPolicy
        let after = try sft.sequenceLogProbs(demos.map { sft.pair($0.prompt, $0.response) })
        // Untrained: ~ −5.56 nats per token; after SFT each of ~6 tokens is one of 4 letters or EOS.
        XCTAssertLessThan(TrainerKit.mean(before), -25)
        XCTAssertGreaterThan(TrainerKit.mean(after), -14)
        let samples = try Evaluation.sample(policy: sft, prompts: Toy.task.prompts(count: 16, split: .heldOut, seed: 3),
                                        options: SamplingOptions(maxNewTokens: 12, temperature: 1))
        let ended = samples.filter { !$0.hitLengthLimit }.count
        XCTAssertGreaterThanOrEqual(ended, 12, "the SFT policy should learn to emit EOS")
    }

    func testRewardModelReachesHeldOutAccuracyOnSeparablePairs() throws {
        let rm = Toy.rewardModel()
        var p = RewardModelTrainer.Parameters()
        p.learningRate = 3e-3
        p.epochs = 4
        p.batchSize = 16
        p.warmupFraction = 0.03
        var reported: [String: Double] = [:]
        let out = try RewardModelTrainer(p).train(rewardModel: rm, pairs: Toy.countPairs(count: 256, seed: 1),
                                                  heldOut: Toy.countPairs(count: 64, seed: 2),
                                                  control: TrainingControl(reporter: { _, _, v in reported = v }))
        XCTAssertEqual(out.totalSteps, 64)
        let acc = try XCTUnwrap(out.lastValues["heldout_accuracy"])
        XCTAssertGreaterThanOrEqual(acc, 0.8)
        XCTAssertEqual(reported["heldout_accuracy"], acc)
        XCTAssertEqual(try Evaluation.rewardModelAccuracy(rm, pairs: Toy.countPairs(count: 64, seed: 2)), acc, accuracy: 1e-12)
        // The loss sees score differences only: the head bias keeps its initial 0 (HF's score layer has none).
        XCTAssertEqual(rm.model.scoreBias, 0)
    }

    func testDPORaisesTheMarginOnItsTrainingPairs() throws {
        let policy = Toy.sftPolicy.copy()
        let reference = Toy.sftPolicy.copy()
        let pairs = Toy.countPairs(count: 64, seed: 4)
        func margin() throws -> Double {
            let c = try policy.sequenceLogProbs(pairs.map { policy.pair($0.prompt, $0.chosen) })
            let r = try policy.sequenceLogProbs(pairs.map { policy.pair($0.prompt, $0.rejected) })
            let rc = try reference.sequenceLogProbs(pairs.map { policy.pair($0.prompt, $0.chosen) })
            let rr = try reference.sequenceLogProbs(pairs.map { policy.pair($0.prompt, $0.rejected) })
            return TrainerKit.mean(pairs.indices.map { (c[$0] - rc[$0]) - (r[$0] - rr[$0]) })
        }
        XCTAssertEqual(try margin(), 0, accuracy: 1e-9)
        var p = DPOTrainer.Parameters()
        p.learningRate = 3e-3
        p.batchSize = 16
        let out = try DPOTrainer(p).train(policy: policy, reference: reference, pairs: pairs)
        XCTAssertEqual(out.totalSteps, 12)
        XCTAssertGreaterThan(try margin(), 2.0)
        XCTAssertGreaterThan(out.lastValues["accuracy"] ?? 0, 0.8)
    }

    /// A frozen policy (as loaded) trains to exactly the weights a trainable copy reaches: the trainer
    /// makes it trainable; the reference stays frozen, and backward through it is an error.
    func testDPOFromAFrozenPolicyMatchesATrainableOne() throws {
        let frozen = Toy.sftPolicy.copy(), trainable = Toy.sftPolicy.copy(trainable: true)
        let reference = Toy.sftPolicy.copy()
        XCTAssertFalse(frozen.model.isTrainable)
        let pairs = Toy.countPairs(count: 16, seed: 4)
        var p = DPOTrainer.Parameters()
        p.learningRate = 3e-3
        p.batchSize = 8
        let a = try DPOTrainer(p).train(policy: frozen, reference: reference, pairs: pairs)
        let b = try DPOTrainer(p).train(policy: trainable, reference: reference, pairs: pairs)
        XCTAssertEqual(a.lastValues.filter { $0.key != "tokens_per_s" }, b.lastValues.filter { $0.key != "tokens_per_s" })
        for (x, y) in zip(frozen.model.parameters, trainable.model.parameters) { XCTAssertEqual(Array(x.value), Array(y.value), x.name) }
        XCTAssertFalse(reference.model.isTrainable)
        let enc = try reference.encode([reference.pair(Prompt("x"), "abc")])
        _ = reference.tokenLogProbsForTraining(enc)
        XCTAssertThrowsError(try reference.backward(enc, dSequence: [1]))
    }

    /// DPO with LoRA adapters on q_proj and v_proj: the margin rises, only those matrices change, and the
    /// policy leaves as a plain model (adapters merged).
    func testDPOWithLoRATrainsOnlyItsTargetsAndMerges() throws {
        let policy = Toy.sftPolicy.copy()
        let before = policy.model.namedTensors()
        let pairs = Toy.countPairs(count: 64, seed: 4)
        var p = DPOTrainer.Parameters()
        p.learningRate = 3e-2  // the adapters start at B = 0 and move only through rank-4 factors
        p.batchSize = 16
        p.epochs = 4
        p.lora = LoRASettings(rank: 4, alpha: 8, targets: ["q_proj", "v_proj"])
        let out = try DPOTrainer(p).train(policy: policy, reference: Toy.sftPolicy, pairs: pairs)
        XCTAssertTrue(out.completed)
        XCTAssertGreaterThan(out.lastValues["margin"] ?? 0, 0.5)
        XCTAssertGreaterThan(out.lastValues["accuracy"] ?? 0, 0.7)
        XCTAssertTrue(policy.model.loraParameters.isEmpty, "adapters merged")
        let after = policy.model.namedTensors()
        XCTAssertEqual(Set(after.keys), Set(before.keys))
        for (name, t) in after {
            let adapted = name.contains("q_proj") || name.contains("v_proj")
            XCTAssertEqual(t.data != before[name]!.data, adapted, name)
        }
    }

    /// The recipe's LoRA target names (Hyperparameters, compute-free) are the engine's matrices.
    func testLoRATargetNamesAreTheEnginesAndDefaultsAgree() {
        XCTAssertEqual(LoRATargets.known, LoRAConfig.allTargets)
        XCTAssertEqual(LoRATargets.defaults, LoRAConfig.defaultTargets)
    }

    func testDPOLossVariantsAllTrain() throws {
        let pairs = Toy.countPairs(count: 16, seed: 6)
        for kind in DPOLossKind.allCases {
            let policy = Toy.sftPolicy.copy()
            var p = DPOTrainer.Parameters()
            p.loss = DPOLossOptions(kind: kind, beta: kind == .simpo ? 2 : 0.1)
            p.learningRate = 3e-3
            p.batchSize = 8
            p.epochs = 4
            var first: Double?, last = 0.0
            _ = try DPOTrainer(p).train(policy: policy, pairs: pairs, control: TrainingControl(reporter: { step, _, v in
                if step == 1 { first = v["loss"] }
                last = v["loss"] ?? .nan
            }))
            XCTAssertLessThan(last, try XCTUnwrap(first), "\(kind) loss should fall")
        }
    }

    func testBadParametersAreRejectedWithAClearError() {
        var p = DPOTrainer.Parameters()
        p.batchSize = 0
        XCTAssertThrowsError(try DPOTrainer(p).train(policy: Toy.policy(), pairs: Toy.countPairs(count: 2, seed: 1))) { e in
            XCTAssertEqual("\(e)", "dpo: parameter batchSize = 0 is invalid; expected >= 1")
        }
        XCTAssertThrowsError(try DPOTrainer().train(policy: Toy.policy(), pairs: [])) { e in
            XCTAssertEqual(e as? TrainingError, .emptyDataset(trainer: "dpo"))
        }
    }

    func testParametersReadFromPartialConfigs() throws {
        func config(_ entries: [(String, ConfigValue)]) -> ConfigNode {
            ConfigNode(.map(entries.map { (key: $0.0, value: ConfigNode($0.1)) }))
        }
        let p = try PPOTrainer.Parameters(config: config([("beta", .double(0.0325)), ("eos_penalty", .null)]))
        XCTAssertEqual(p.beta, 0.0325)
        XCTAssertEqual(p.eosPenalty, -10, "a null keeps the default (the stage's eos_trick: false turns it off)")
        XCTAssertEqual(p.lambda, 0.95)  // Table 9 default kept
        XCTAssertEqual(try PPOTrainer.Parameters(config: config([])), PPOTrainer.Parameters())
        let d = try DPOTrainer.Parameters(config: config([("loss", .map([(key: "kind", value: ConfigNode(.string("ipo")))]))]))
        XCTAssertEqual(d.loss.kind, .ipo)
        XCTAssertEqual(d.loss.beta, 0.1)
        XCTAssertThrowsError(try D2POTrainer.Parameters(config: config([("gold_budget", .string("lots"))]))) { e in
            XCTAssertTrue("\(e)".contains("expected an integer"), "\(e)")
        }
        // Round trip through the recipe value.
        var o = OPOTrainer.Parameters()
        o.goldBudget = 300
        XCTAssertEqual(try OPOTrainer.Parameters(config: ConfigNode(o.configValue)), o)
    }
}
