@testable import Engines
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// Golden job files and argument vectors: what PrefLab's parameters become in TRL and OpenRLHF.
/// After an intended change: `PREFLAB_UPDATE_GOLDEN=1 swift test --filter EnginesTests.MappingTests`.
final class MappingTests: XCTestCase {
    typealias S = EngineTestSupport

    static let paths = TRLJob.Paths(model: "/R/model", reference: nil, train: "/R/train.jsonl", eval: nil,
                                    order: "/R/order.json", checkpoints: "/R/checkpoints", metrics: "/R/engine-metrics.jsonl",
                                    output: "/R/output")

    func job(_ stage: ResolvedStage, rows: Int, processes: Int = 1) throws -> String {
        let job = try TRLMapping.job(stage, node: "HASH", rows: rows, processes: processes, precision: "float32",
                                     maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        return String(decoding: try job.encoded(), as: UTF8.self)
    }

    /// Quickstart's SFT (3000 demonstrations), reward model and DPO (512 pairs), as resolved.
    func testQuickstartJobs() throws {
        let recipe = try S.recipe("Recipes/quickstart.yaml")
        try S.checkGolden("quickstart-sft.job.json", try job(S.stage(recipe, "sft"), rows: 3000))
        try S.checkGolden("quickstart-reward_model.job.json", try job(S.stage(recipe, "reward_model"), rows: 512))
        try S.checkGolden("quickstart-dpo.job.json", try job(S.stage(recipe, "dpo"), rows: 512))
        // Two processes halve each process's accumulation, never the batch.
        let eight = try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.micro_batch=8"])
        let two = try TRLMapping.job(S.stage(eight, "dpo"), node: "H", rows: 512, processes: 2, precision: "float32",
                                     maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        XCTAssertEqual([two.batch.batchSize, two.batch.microBatch, two.batch.gradientAccumulation], [32, 8, 2])
    }

    /// The reward model's schedule decays to its floor; LoRA maps to peft's rank, alpha (default: the rank) and targets.
    func testScheduleAndLoRA() throws {
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.warmup_fraction=0.25"])
        let dpo = try TRLMapping.job(S.stage(recipe, "dpo"), node: "H", rows: 100, processes: 1, precision: "float32",
                                     maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        let lora = try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.lora={rank: 8, targets: [q_proj, o_proj]}"])
        let adapted = try TRLMapping.job(S.stage(lora, "dpo"), node: "H", rows: 100, processes: 1, precision: "float32",
                                         maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        XCTAssertEqual(adapted.lora, TRLJob.LoRA(rank: 8, alpha: 8, targets: ["q_proj", "o_proj"]))
        XCTAssertNil(dpo.lora)
        XCTAssertEqual(dpo.schedule, TRLJob.Schedule(totalSteps: 8, warmupSteps: 2, floorFraction: 0))  // ceil(0.25 × 8)
        let rm = try TRLMapping.job(S.stage(recipe, "reward_model"), node: "H", rows: 20, processes: 1, precision: "float32",
                                    maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        XCTAssertEqual(rm.batch.batchSize, 20, "the RM trainer caps its batch at the data size")
        XCTAssertEqual(rm.schedule.floorFraction, 0.1)
    }

    /// Batches TRL cannot split as PrefLab does are refused with the numbers, not approximated.
    func testUnevenMicroBatchesRefused() throws {
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.micro_batch=12"])
        XCTAssertThrowsError(try job(S.stage(recipe, "dpo"), rows: 512)) { error in
            XCTAssertTrue("\(error)".contains("stages.dpo.micro_batch: TRL averages equal micro-batches"), "\(error)")
        }
        let quick = try S.recipe("Recipes/quickstart.yaml")
        XCTAssertThrowsError(try job(S.stage(recipe, "dpo"), rows: 500)) { error in   // last batch 20: 12 + 8
            XCTAssertTrue("\(error)".contains("last batch of each epoch (20 of 500 rows)"), "\(error)")
        }
        XCTAssertNoThrow(try job(S.stage(quick, "dpo"), rows: 500), "a short last batch is one micro-batch")
    }

    /// OPO: generation steps, update epochs (4 with gold labels), replay and the budget's last short step; the
    /// schedule counts optimiser steps (warmup, then constant, as OPOTrainer).
    func testOnlineJob() throws {
        let yaml = """
            name: o
            stages:
              sft: { kind: sft, task: word_collector, tokenizer: tok }
              tok: { kind: tokenizer, task: word_collector }
              prompts: { kind: task_prompts, task: word_collector }
              opo: { kind: opo, policy: sft, prompts: prompts, labeler: gold, task: word_collector, prompts_per_step: 8,
                     gold_budget: 20, replay_last: 4, warmup_fraction: 0.5, loss: { kind: conservative } }
            """
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "o.yaml")
        let job = try TRLMapping.job(S.stage(recipe, "opo"), node: "H", rows: 64, processes: 1, precision: "float32",
                                     maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        let online = try XCTUnwrap(job.online)
        XCTAssertEqual([online.steps, online.stepsPerEpoch, online.updateEpochs, online.replayLast], [3, 8, 4, 4])
        XCTAssertEqual(online.goldBudget, 20)
        XCTAssertEqual(job.schedule, TRLJob.Schedule(totalSteps: 12, warmupSteps: 6, floorFraction: 1))
        XCTAssertEqual(online.lineEnds, [4, 8, 12])
        // A partial `loss:` map keeps DPOLossOptions' own defaults (β 0.1), exactly as the embedded OPOTrainer reads it.
        XCTAssertEqual(job.loss, TRLJob.Loss(type: "conservative", beta: 0.1, labelSmoothing: 0.1))
        // The last gold step labels what is left of the budget: 8 + 8 + 4 prompts.
        let order = TRLRunner.onlineOrder(online, prompts: 64, seed: 1, inputs: EmbeddedEngineInputs())
        XCTAssertEqual(order.map(\.count), [8, 8, 4])
        XCTAssertEqual(Set(order.joined()).count, 20, "one epoch's permutation: no prompt twice")
        XCTAssertThrowsError(try TRLMapping.job(S.stage(recipe, "opo"), node: "H", rows: 64, processes: 2, precision: "float32",
                                                maxLength: 128, checkpointEvery: 4, paths: Self.paths)) {
            XCTAssertTrue("\($0)".contains("opo on TRL runs in one process"), "\($0)")
        }
    }

    /// D2PO: a gold round every ceil(rollouts / prompts_per_step) steps while budget remains, each adding
    /// gold_update_epochs optimiser steps; the last round labels what is left; constant rates; `steps` overrides the
    /// budget's count; random selection gets PrefLab's own permutation of each round's candidates.
    func testD2POJob() throws {
        let yaml = """
            name: d
            stages:
              sft: { kind: sft, task: word_collector, tokenizer: tok }
              tok: { kind: tokenizer, task: word_collector }
              prompts: { kind: task_prompts, task: word_collector }
              d2po: { kind: d2po, policy: sft, prompts: prompts, task: word_collector, discriminator: self, prompts_per_step: 8,
                      rollouts_per_gold_round: 20, gold_per_round: 3, gold_budget: 7, gold_update_epochs: 2, selection: random,
                      learning_rate: 1.0e-4, discriminator_learning_rate: 2.0e-4 }
            """
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "d.yaml")
        let stage = try S.stage(recipe, "d2po")
        var job = try TRLMapping.job(stage, node: "H", rows: 5, processes: 1, precision: "float32",
                                     maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        let online = try XCTUnwrap(job.online), d2po = try XCTUnwrap(job.d2po)
        // 3 steps per round (24 rollouts >= 20), rounds of 3 + 3 + 1 gold labels: 9 steps, 3 rounds.
        XCTAssertEqual(online.steps, 9)
        XCTAssertEqual(online.lineEnds, [1, 2, 5, 6, 7, 10, 11, 12, 15])
        XCTAssertEqual(TRLMapping.goldRoundSteps(job), [2, 5, 8])
        XCTAssertEqual(job.schedule, TRLJob.Schedule(totalSteps: 15, warmupSteps: 0, floorFraction: 1))
        XCTAssertEqual(job.optimizer.learningRate, 1e-4)
        XCTAssertEqual([d2po.stepsPerRound, d2po.goldPerRound, d2po.goldUpdateEpochs], [3, 3, 2])
        XCTAssertEqual([d2po.discriminator, d2po.selection], ["self", "random"])
        XCTAssertEqual(d2po.discriminatorLearningRate, 2e-4)
        XCTAssertEqual(online.goldBudget, 7)
        // Prompts run on across epochs inside a step (5 prompts, 8 per step): the trainer's cyclic batches.
        let order = TRLRunner.cyclicOrder(online, prompts: 5, seed: 0, inputs: EmbeddedEngineInputs())
        XCTAssertEqual(order.map(\.count), Array(repeating: 8, count: 9))
        XCTAssertEqual(Set(order[0].prefix(5)), Set(0..<5), "the first five are one epoch's permutation")
        let context = NodeContext(hash: "H", stage: stage, inputs: [:], outputDirectory: S.repo, resumeDirectory: S.repo,
                                  reporter: Recorder())
        try TRLRunner.prepareD2PO(&job, context, model: S.repo, prompts: 5, seed: 0, inputs: EmbeddedEngineInputs())
        XCTAssertEqual(job.d2po?.selectionOrders.keys.sorted(), ["2", "5", "8"])
        XCTAssertEqual(job.d2po?.selectionOrders["5"], D2POTrainer.randomSelectionOrder(count: 24, step: 5, seed: 0))
        // `steps` overrides the budget's plan; rounds stop once the budget is spent.
        let capped = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "d.yaml", overrides: ["stages.d2po.steps=11"])
        let longer = try TRLMapping.job(S.stage(capped, "d2po"), node: "H", rows: 5, processes: 1, precision: "float32",
                                        maxLength: 128, checkpointEvery: 4, paths: Self.paths)
        XCTAssertEqual(longer.online?.lineEnds, [1, 2, 5, 6, 7, 10, 11, 12, 15, 16, 17])
    }

    /// What TRL has no equivalent for is refused with the reason.
    func testTRLRefusals() throws {
        var lines: [String] = []
        for kind in ["sigmoid", "ipo", "conservative", "simpo"] {
            let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.loss={kind: \(kind)}"])
            let refusals = TRLMapping.refusals(try S.stage(recipe, "dpo"))
            lines.append("dpo loss.kind=\(kind): " + (refusals.isEmpty ? "delegated" : refusals.map(\.message).joined(separator: "; ")))
        }
        let quick = try S.recipe("Recipes/quickstart.yaml")
        let engines = try S.recipe("Recipes/checks/engines.yaml")
        for (recipe, name) in [(quick, "sft"), (quick, "reward_model"), (quick, "ppo"), (engines, "opo_rm"), (engines, "opo_gold"), (engines, "d2po")] {
            let refusals = TRLMapping.refusals(try S.stage(recipe, name))
            lines.append("\(name): " + (refusals.isEmpty ? "delegated" : refusals.map(\.message).joined(separator: "; ")))
        }
        try S.checkGolden("trl-refusals.txt", lines.joined(separator: "\n") + "\n")
        let ipo = try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.loss={kind: ipo}"])
        let error = try XCTUnwrap(TRLMapping.refusals(try S.stage(ipo, "dpo")).first)
        XCTAssertTrue(error.description.hasPrefix("<command line>:1:24: "), "a refusal names where the key was written: \(error)")
        XCTAssertEqual(error.path, "stages.dpo.loss.kind")
    }

    /// Unpacking Table 10's variants on OpenRLHF: the mapped ones as golden argument vectors, the others refused.
    func testTable10Vectors() throws {
        let variants = ["ours", "reward_normalization", "reward_whitening", "adaptive_kl", "kl_clamping",
                        "value_from_policy", "no_eos_trick", "multiple_rollouts"]
        let recipe = try S.recipe("Recipes/unpacking/table10.yaml", overrides: variants.flatMap { ["stages.\($0).value_coefficient=1", "stages.\($0).warmup_fraction=0"] })
        let known = Set(try String(contentsOf: S.fixtures.appendingPathComponent("openrlhf-0.11.2-train_ppo_ray-options.txt"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("--") }.map(String.init))
        let paths = OpenRLHFMapping.Paths(policy: "/R/policy", rewardModel: "/R/reward_model", prompts: "/R/prompts.jsonl",
                                          checkpoints: "/R/checkpoints", output: "/R/output")
        var text = ""
        for variant in variants {
            let stage = try S.stage(recipe, variant)
            text += "# \(variant)\n"
            do {
                let args = try OpenRLHFMapping.arguments(stage, paths: paths, gpus: 8, precision: "bfloat16")
                for flag in args where flag.hasPrefix("--") {
                    XCTAssertTrue(known.contains(flag), "\(variant): \(flag) is not an OpenRLHF 0.11.2 train_ppo_ray option")
                }
                // One option per line, its values after it.
                text += args.map { $0.hasPrefix("--") ? "\n  " + $0 : " " + $0 }.joined().dropFirst() + "\n"
            } catch let error as EngineError {
                text += "refused: \(error.path): \(error.message)\n"
            }
        }
        try S.checkGolden("table10-openrlhf.txt", text)
        // The paper's default value coefficient (0.1) is refused, with the reason.
        let plain = try S.recipe("Recipes/unpacking/table10.yaml")
        XCTAssertEqual(OpenRLHFMapping.refusals(try S.stage(plain, "ours")).map(\.path),
                       ["stages.ours.value_coefficient", "stages.ours.warmup_fraction"])
    }

    /// Negative numbers are written so that argparse reads them as values, not options.
    func testNumbers() {
        XCTAssertEqual(OpenRLHFMapping.number(-10), "-10.0")
        XCTAssertEqual(OpenRLHFMapping.number(1e-5), "0.00001")
        XCTAssertEqual(OpenRLHFMapping.number(2e-4), "0.0002")
        XCTAssertEqual(OpenRLHFMapping.number(0.95), "0.95")
    }
}
