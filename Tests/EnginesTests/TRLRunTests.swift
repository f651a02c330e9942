import Engines
import Foundation
import Pipeline
import RecipeSpec
import XCTest

/// Inputs made by Fixtures/tiny_model.py: a random tiny Llama in HF form and 16 rows tokenised by its tokenizer.
fileprivate struct FixtureInputs: EngineInputs {
    let python: String

    func initialModel(_ context: NodeContext, into dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [EngineTestSupport.fixtures.appendingPathComponent("tiny_model.py").path, dir.path,
                       context.stage.kind == "reward_model" ? "reward" : "causal"]
        p.environment = ["HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "tiny_model.py failed")
    }

    func rows(_ context: NodeContext) throws -> EngineRows {
        let url = context.resumeDirectory.appendingPathComponent("model/rows.jsonl")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .map { try decoder.decode(EngineRow.self, from: Data($0.utf8)) }
        return EngineRows(train: rows, heldOut: Array(rows.prefix(4)))
    }

    /// A fixed, epoch-dependent order (the real one is PrefLab's seeded permutation).
    func epochOrder(count: Int, epoch: Int, seed: UInt64) -> [Int] {
        (0..<count).map { ($0 * 5 + epoch * 3 + Int(seed)) % count }
    }

    func initialAdapter(_ context: NodeContext, into dir: URL) throws {
        throw EngineLaunchError("the fixture stages have no LoRA")
    }

    func d2poSelectionOrder(count: Int, step: Int, seed: UInt64) -> [Int] { Array(0..<count) }

    func importModel(from engineOutput: URL, context: NodeContext) throws -> [String: Double] {
        for name in ["model.safetensors", "config.json", "tokenizer.json"] {
            try FileManager.default.copyItem(at: engineOutput.appendingPathComponent(name),
                                             to: context.outputDirectory.appendingPathComponent(name))
        }
        return ["imported": 1]
    }
}

/// TRL through the runner on a tiny model (seconds of training; most of the time is Python's imports).
/// Skipped, with the reason printed, when `.venv-engines` is absent (`bash scripts/setup-engines.sh` makes it).
final class TRLRunTests: XCTestCase {
    typealias S = EngineTestSupport

    fileprivate func fixture() throws -> FixtureInputs {
        guard let python = S.python else {
            print("TRLRunTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        return FixtureInputs(python: python)
    }

    fileprivate func context(_ stage: ResolvedStage, _ dir: URL, _ reporter: Recorder) throws -> NodeContext {
        let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        return NodeContext(hash: "test", stage: stage, inputs: [:], outputDirectory: out,
                           resumeDirectory: dir.appendingPathComponent("resume"), reporter: reporter)
    }

    func site(_ python: String) -> SiteConfig {
        var site = SiteConfig()
        site.python = ["trl": python]
        return site
    }

    /// DPO killed part-way resumes from the engine's checkpoint and reports every step exactly once.
    func testDPOKilledResumesFromCheckpoint() throws {
        let inputs = try fixture()
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: [
            "stages.dpo.batch_size=4", "stages.dpo.micro_batch=2", "stages.dpo.epochs=2", "stages.dpo.learning_rate=0.001"])
        let stage = try S.stage(recipe, "dpo")
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = TRLRunner(inputs: inputs, site: site(inputs.python))
        let first = Recorder()
        let firstContext = try context(stage, dir, first)
        let killer = S.killer(at: "checkpoint-4", resume: firstContext.resumeDirectory)
        killer.start()
        XCTAssertThrowsError(try runner.run(firstContext)) { XCTAssertTrue("\($0)".contains("killed by signal 9"), "\($0)") }
        XCTAssertGreaterThanOrEqual(first.steps.count, 4)
        let second = Recorder()
        try runner.run(try context(stage, dir, second))
        XCTAssertEqual(second.steps.map(\.step), Array(1...8), "each step once: restored lines, then the resumed run")
        XCTAssertTrue(second.logs.contains { $0.contains("resuming from checkpoint-") }, second.logs.joined(separator: "\n"))
        XCTAssertEqual(second.steps.first?.values["loss"] ?? 0, log(2), accuracy: 1e-6, "first step starts at log 2")
        XCTAssertEqual(second.steps.map { $0.values["lr"] ?? -1 }.last, 0, "linear decay reaches 0 at the last step")
        XCTAssertEqual(second.summaries["imported"], 1)
        XCTAssertEqual(second.summaries["steps"], 8)
        let provenance = try String(contentsOf: try XCTUnwrap(second.summaries.isEmpty ? nil : dir)
            .appendingPathComponent("resume/job.json"), encoding: .utf8)
        XCTAssertTrue(provenance.contains("\"checkpoint_every\" : 2"), provenance)
    }

    /// A reward model trains through TRL's RewardTrainer and reports held-out accuracy.
    func testRewardModelSmoke() throws {
        let inputs = try fixture()
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: [
            "stages.reward_model.batch_size=8", "stages.reward_model.micro_batch=4", "stages.reward_model.epochs=1"])
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reporter = Recorder()
        try TRLRunner(inputs: inputs, site: site(inputs.python)).run(try context(try S.stage(recipe, "reward_model"), dir, reporter))
        XCTAssertEqual(reporter.steps.map(\.step), [1, 2])
        XCTAssertEqual(reporter.steps.first?.values["loss"] ?? 0, log(2), accuracy: 0.05, "a fresh head starts near log 2")
        XCTAssertNotNil(reporter.summaries["heldout_accuracy"])
        XCTAssertNotNil(reporter.steps.last?.values["accuracy"])
    }

    /// Two torchrun ranks over gloo (examples/site-torchrun-cpu.yaml's launcher): PrefLab's batch of 4 is two ranks ×
    /// micro-batch 2, and the run matches one process: same steps, same first-step loss, same final loss (1e-4).
    func testTwoProcessesOverGlooMatchOne() throws {
        let inputs = try fixture()
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: [
            "stages.dpo.batch_size=4", "stages.dpo.micro_batch=2", "stages.dpo.epochs=1", "stages.dpo.learning_rate=0.001"])
        let stage = try S.stage(recipe, "dpo")
        var two = try SiteConfig.load(file: S.repo.appendingPathComponent("examples/site-torchrun-cpu.yaml").path)
        two.python = ["trl": inputs.python]
        XCTAssertEqual([two.launcher.rawValue, "\(two.processes(for: "dpo"))"], ["torchrun", "2"])
        var results: [[(step: Int, total: Int, values: [String: Double])]] = []
        for site in [site(inputs.python), two] {
            let dir = try S.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let reporter = Recorder()
            try TRLRunner(inputs: inputs, site: site).run(try context(stage, dir, reporter))
            let job = try String(contentsOf: dir.appendingPathComponent("resume/job.json"), encoding: .utf8)
            XCTAssertTrue(job.contains("\"processes\" : \(site.processes(for: "dpo"))"), job)
            let launched = reporter.logs.first { $0.hasPrefix("engine: ") } ?? ""
            XCTAssertEqual(launched.contains("torch.distributed.run --standalone --nproc_per_node 2"), site.launcher == .torchrun, launched)
            results.append(reporter.steps)
        }
        XCTAssertEqual(results[0].map(\.step), [1, 2, 3, 4])
        XCTAssertEqual(results[1].map(\.step), results[0].map(\.step))
        for (one, two) in zip(results[0], results[1]) {
            print("TRLRunTests: step \(one.step) loss 1 process \(one.values["loss"] ?? .nan), 2 processes \(two.values["loss"] ?? .nan)")
            XCTAssertEqual(one.values["loss"] ?? 0, two.values["loss"] ?? 1, accuracy: 1e-4, "step \(one.step)")
        }
    }
}
