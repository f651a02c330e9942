import Foundation
import Llama
import Randomness
import XCTest
@testable import Preference

/// The online trainers (PPO, OPO, D2PO) on the letter-count toy task, and resume = uninterrupted.
final class AlgorithmTestsOnline: XCTestCase {
    static let heldOut = Toy.task.prompts(count: 32, split: .heldOut, seed: 11)
    static let train = Toy.task.prompts(count: 256, split: .train, seed: 12)
    static let sampling = SamplingOptions(maxNewTokens: 10, temperature: 1, seed: 13)

    /// A reward model trained once on count pairs (the static RM of PPO and OPO).
    static let countRM: RewardModel = {
        let rm = Toy.rewardModel()
        var p = RewardModelTrainer.Parameters()
        p.learningRate = 3e-3
        p.epochs = 4
        p.batchSize = 16
        _ = try! RewardModelTrainer(p).train(rewardModel: rm, pairs: Toy.countPairs(count: 256, seed: 1))
        return rm
    }()

    private func goldReward(_ policy: Policy) throws -> Double {
        try Evaluation.goldReward(policy: policy, task: Toy.task, prompts: Self.heldOut, samplesPerPrompt: 2,
                              options: Self.sampling).summary.mean
    }

    private func ppoParameters() -> PPOTrainer.Parameters {
        var p = PPOTrainer.Parameters()
        p.promptBatch = 16
        p.miniBatch = 8
        p.maxNewTokens = 10
        p.temperature = 1
        p.learningRate = 2e-3
        p.warmupFraction = 0
        return p
    }

    func testPPORaisesGoldReward() throws {
        let policy = Toy.sftPolicy.copy()
        let before = try goldReward(policy)
        let out = try PPOTrainer(ppoParameters()).train(policy: policy, reference: Toy.sftPolicy.copy(),
                                                        rewardModel: Self.countRM, prompts: Self.train)
        XCTAssertEqual(out.totalSteps, 16)
        XCTAssertNotNil(out.lastValues["value_loss"])
        XCTAssertGreaterThan(try goldReward(policy), before + 0.5, "before \(before)")
    }

    func testPPOEOSTrickPenalisesTruncatedRollouts() throws {
        // An untrained policy almost never emits EOS in 3 tokens, so nearly every rollout scores −10.
        var p = ppoParameters()
        p.maxNewTokens = 3
        p.epochs = 1
        var rewards: [Double] = []
        _ = try PPOTrainer(p).train(policy: Toy.policy(), reference: Toy.policy(), rewardModel: Self.countRM,
                                    prompts: Array(Self.train.prefix(16)),
                                    control: TrainingControl(reporter: { _, _, v in rewards.append(v["reward"] ?? 0) }))
        XCTAssertEqual(rewards.count, 1)
        XCTAssertLessThan(rewards[0], -9)
    }

    func testOPOWithStaticRewardModelRaisesGoldReward() throws {
        let policy = Toy.sftPolicy.copy()
        let before = try goldReward(policy)
        var p = OPOTrainer.Parameters()
        p.learningRate = 3e-3
        p.maxNewTokens = 10
        p.loss.beta = 0.1
        let out = try OPOTrainer(p).train(policy: policy, reference: Toy.sftPolicy.copy(),
                                          labeler: .staticRewardModel(Self.countRM), prompts: Self.train)
        XCTAssertEqual(out.totalSteps, 32)
        XCTAssertEqual(out.goldUsed, 0)
        XCTAssertGreaterThan(try goldReward(policy), before + 0.5, "before \(before)")
    }

    func testOPOWithGoldLabelsRaisesRewardAndStopsAtTheBudget() throws {
        let policy = Toy.sftPolicy.copy()
        let before = try goldReward(policy)
        let annotator = CountingAnnotator(task: Toy.task)
        var p = OPOTrainer.Parameters()
        p.learningRate = 1e-3
        p.maxNewTokens = 10
        p.loss.beta = 0.1
        p.goldBudget = 100
        p.replayLast = 8
        let out = try OPOTrainer(p).train(policy: policy, reference: Toy.sftPolicy.copy(), labeler: .gold(annotator),
                                          prompts: Self.train)
        XCTAssertEqual(out.totalSteps, 13)  // ⌈100 / 8⌉: the last step labels only the 4 left
        XCTAssertEqual(annotator.calls, 100)
        XCTAssertEqual(out.goldUsed, 100)
        XCTAssertGreaterThan(try goldReward(policy), before + 0.5, "before \(before)")
    }

    private func d2poParameters(budget: Int) -> D2POTrainer.Parameters {
        var p = D2POTrainer.Parameters()
        p.learningRate = 1e-3
        p.discriminatorLearningRate = 1e-3
        p.loss.beta = 0.1
        p.promptsPerStep = 8
        p.rolloutsPerGoldRound = 16
        p.goldPerRound = 4
        p.goldBudget = budget
        p.maxNewTokens = 10
        return p
    }

    func testD2POSpendsExactlyItsGoldBudget() throws {
        for (discriminator, name) in [(D2POTrainer.Discriminator.rewardModel(Self.countRM.copyForTest()), "rm"),
                                      (.dpo(Toy.sftPolicy.copy(), reference: Toy.sftPolicy.copy()), "dpo"),
                                      (.selfPolicy, "self")] {
            let annotator = CountingAnnotator(task: Toy.task)
            var p = d2poParameters(budget: 10)
            p.steps = 12  // 6 rounds could take 24 labels: the budget must cut them at 10
            var goldCurve: [Double] = []
            let out = try D2POTrainer(p).train(policy: Toy.sftPolicy.copy(), reference: Toy.sftPolicy.copy(),
                                               discriminator: discriminator, annotator: annotator, prompts: Self.train,
                                               control: TrainingControl(reporter: { _, _, v in goldCurve.append(v["gold_used"] ?? -1) }))
            XCTAssertEqual(annotator.calls, 10, name)
            XCTAssertEqual(out.goldUsed, 10, name)
            // Rounds after steps 2, 4, 6 spend 4, 4, 2; nothing after.
            XCTAssertEqual(goldCurve, [0, 4, 4, 8, 8, 10, 10, 10, 10, 10, 10, 10], name)
        }
    }

    func testD2POConfidenceSelectionTakesTheSmallestGaps() {
        let scores = [(1.0, 0.0), (0.5, 0.375), (-3.0, 2.0), (0.75, 0.5), (2.0, 2.25)]
        // Gaps 1, 0.125, 5, 0.25, 0.25: the smallest, then the two 0.25s (earlier first).
        XCTAssertEqual(D2POTrainer.select(3, from: scores, by: .confidence, step: 3, seed: 1), [1, 3, 4])
        let random = D2POTrainer.select(3, from: scores, by: .random, step: 3, seed: 1)
        XCTAssertEqual(random.count, 3)
        XCTAssertEqual(Set(random).count, 3)
        // The random pick is the round's own permutation (what the TRL bridge is given), fixed by seed and step.
        XCTAssertEqual(random, Array(D2POTrainer.randomSelectionOrder(count: 5, step: 3, seed: 1).prefix(3)))
        XCTAssertEqual(Set((0..<8).map { D2POTrainer.randomSelectionOrder(count: 5, step: $0, seed: 1) }.map { "\($0)" }).count > 1, true,
                       "each round draws its own permutation")
        XCTAssertEqual(D2POTrainer.select(9, from: scores, by: .confidence, step: 3, seed: 1).count, 5)
    }

    func testPPOTable10VariantsRun() throws {
        var p = ppoParameters()
        p.rolloutsPerPrompt = 2
        p.gradientAccumulation = 2
        p.innerEpochs = 2
        p.rewardNormalization = true
        p.rewardWhitening = true
        p.clampKL = true
        p.valueInit = .sft
        p.adaptiveKL = PPOTrainer.AdaptiveKL(target: 0.01, horizon: 100)
        var betas: [Double] = [], losses: [Double] = []
        let out = try PPOTrainer(p).train(policy: Toy.sftPolicy.copy(), reference: Toy.sftPolicy.copy(),
                                          rewardModel: Self.countRM, prompts: Array(Self.train.prefix(48)),
                                          control: TrainingControl(reporter: { _, _, v in
                                              betas.append(v["beta"] ?? .nan)
                                              losses.append(v["loss"] ?? .nan)
                                          }))
        XCTAssertEqual(out.totalSteps, 3)
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        // Iteration 1 starts at π = π_ref, so KL = 0 is below target: the error clips to −0.2 and
        // β = 0.05·(1 − 0.2·32/100) = 0.0468. Once the policy moves past the tiny target, β rises.
        XCTAssertEqual(betas[0], 0.0468, accuracy: 1e-12)
        XCTAssertGreaterThan(betas[2], betas[1])
        var bad = p
        bad.miniBatch = 5
        XCTAssertThrowsError(try PPOTrainer(bad).train(policy: Toy.sftPolicy.copy(), reference: Toy.sftPolicy,
                                                       rewardModel: Self.countRM, prompts: Self.train))
    }

    func testD2PORaisesGoldReward() throws {
        let policy = Toy.sftPolicy.copy()
        let before = try goldReward(policy)
        let annotator = CountingAnnotator(task: Toy.task)
        let out = try D2POTrainer(d2poParameters(budget: 40)).train(
            policy: policy, reference: Toy.sftPolicy.copy(), discriminator: .rewardModel(Self.countRM.copyForTest()),
            annotator: annotator, prompts: Self.train)
        XCTAssertEqual(out.totalSteps, 20)
        XCTAssertEqual(annotator.calls, 40)
        XCTAssertGreaterThan(try goldReward(policy), before + 0.5, "before \(before)")
    }

    // MARK: resume

    /// Runs `train` uninterrupted, then interrupted after `stopAt` steps and resumed; returns both final weights.
    private func interruptedAndResumed(stopAt: Int, _ train: (LlamaModel, TrainingControl) throws -> TrainingOutcome,
                                       fresh: () -> LlamaModel) throws -> ([Float], [Float]) {
        let a = fresh()
        let full = try train(a, TrainingControl())
        XCTAssertTrue(full.completed)
        let dir = Toy.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = fresh()
        let first = try train(b, TrainingControl(resumeDirectory: dir, checkpointEvery: 2, shouldStop: { $0 == stopAt }))
        XCTAssertFalse(first.completed)
        XCTAssertEqual(first.stepsDone, stopAt)
        let c = fresh()  // a new process would start from the initial weights and the directory
        let second = try train(c, TrainingControl(resumeDirectory: dir, checkpointEvery: 2))
        XCTAssertTrue(second.completed)
        XCTAssertEqual(second.resumedFromStep, stopAt - stopAt % 2)
        return (Toy.weights(a), Toy.weights(c))
    }

    /// DPO from the toy SFT policy, interrupted at step 3 and resumed, against one uninterrupted run.
    private func checkDPOResume(_ p: DPOTrainer.Parameters) throws {
        let pairs = Toy.countPairs(count: 24, seed: 8)
        let (a, b) = try interruptedAndResumed(stopAt: 3, { m, control in
            try DPOTrainer(p).train(policy: Policy(model: m, codec: ByteCodec()), reference: Toy.sftPolicy, pairs: pairs,
                                    control: control)
        }, fresh: { Toy.sftPolicy.model.copy() })
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, Toy.weights(Toy.sftPolicy.model))
    }

    func testDPOResumeIsBitIdentical() throws {
        var p = DPOTrainer.Parameters()
        p.learningRate = 3e-3
        p.batchSize = 8
        p.epochs = 2
        try checkDPOResume(p)
    }

    /// With LoRA the checkpoint holds the adapters' factors and their optimiser state: the resumed run
    /// ends on the same merged weights.
    func testDPOWithLoRAResumeIsBitIdentical() throws {
        var p = DPOTrainer.Parameters()
        p.learningRate = 1e-2
        p.batchSize = 8
        p.epochs = 2
        p.lora = LoRASettings(rank: 2, alpha: 4, targets: ["q_proj", "down_proj"])
        try checkDPOResume(p)
    }

    func testSFTAndRewardModelResumeAreBitIdentical() throws {
        var sft = SFTTrainer.Parameters()
        sft.learningRate = 1e-2
        sft.batchSize = 8
        let demos = Toy.task.demonstrations(count: 40, seed: 31)
        let (a, b) = try interruptedAndResumed(stopAt: 7, { m, control in
            try SFTTrainer(sft).train(policy: Policy(model: m, codec: ByteCodec()), examples: demos, control: control)
        }, fresh: { Toy.policy(seed: 4).model })
        XCTAssertEqual(a, b)
        var rm = RewardModelTrainer.Parameters()
        rm.learningRate = 3e-3
        rm.batchSize = 8
        let pairs = Toy.countPairs(count: 40, seed: 32)
        let (c, d) = try interruptedAndResumed(stopAt: 3, { m, control in
            try RewardModelTrainer(rm).train(rewardModel: RewardModel(model: m, codec: ByteCodec()), pairs: pairs, control: control)
        }, fresh: { Toy.rewardModel(seed: 5).model })
        XCTAssertEqual(c, d)
    }

    func testPPOResumeIsBitIdentical() throws {
        var p = ppoParameters()
        p.epochs = 1
        let prompts = Array(Self.train.prefix(80))  // 5 iterations
        let (a, b) = try interruptedAndResumed(stopAt: 3, { m, control in
            try PPOTrainer(p).train(policy: Policy(model: m, codec: ByteCodec()), reference: Toy.sftPolicy,
                                    rewardModel: Self.countRM, prompts: prompts, control: control)
        }, fresh: { Toy.sftPolicy.model.copy() })
        XCTAssertEqual(a, b)
    }

    func testOPOGoldWithReplayResumeIsBitIdentical() throws {
        var p = OPOTrainer.Parameters()
        p.learningRate = 1e-3
        p.maxNewTokens = 8
        p.goldBudget = 40
        p.replayLast = 6
        p.updateEpochs = 2
        let (a, b) = try interruptedAndResumed(stopAt: 3, { m, control in
            try OPOTrainer(p).train(policy: Policy(model: m, codec: ByteCodec()), reference: Toy.sftPolicy,
                                    labeler: .gold(CountingAnnotator(task: Toy.task)), prompts: Self.train, control: control)
        }, fresh: { Toy.sftPolicy.model.copy() })
        XCTAssertEqual(a, b)
    }

    func testD2POResumeIsBitIdentical() throws {
        var p = d2poParameters(budget: 12)
        p.steps = 7
        let (a, b) = try interruptedAndResumed(stopAt: 5, { m, control in
            // The discriminator restarts from the same RM each call; the checkpoint restores its trained state.
            try D2POTrainer(p).train(policy: Policy(model: m, codec: ByteCodec()), reference: Toy.sftPolicy,
                                     discriminator: .rewardModel(Self.countRM.copyForTest()),
                                     annotator: CountingAnnotator(task: Toy.task), prompts: Self.train, control: control)
        }, fresh: { Toy.sftPolicy.model.copy() })
        XCTAssertEqual(a, b)
    }
}

extension RewardModel {
    /// An independent copy (tests update discriminators in place).
    func copyForTest() -> RewardModel { try! RewardModel(model: model.copy(), codec: codec) }
}
