import Engines
import Stages
import Foundation
import XCTest

/// The site file: parsing, errors with file:line:column, and the commands each launcher builds.
final class SiteConfigTests: XCTestCase {
    typealias S = EngineTestSupport

    func testExamplesParse() throws {
        let dir = S.repo.appendingPathComponent("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("site-") }
        XCTAssertGreaterThanOrEqual(files.count, 4)
        for file in files { XCTAssertNoThrow(try SiteConfig.load(file: dir.appendingPathComponent(file).path), file) }
        let torchrun = try SiteConfig.load(file: dir.appendingPathComponent("site-torchrun-cpu.yaml").path)
        XCTAssertEqual(torchrun.processes(for: "dpo"), 2)
        XCTAssertEqual(torchrun.processes(for: "gold_reward"), 1)
    }

    func testErrorsNameLineAndSuggest() {
        XCTAssertThrowsError(try SiteConfig.parse("launcher: local\nprocesss: { dpo: 2 }\n", file: "s.yaml")) {
            XCTAssertEqual("\($0)", "s.yaml:2:11: site: unknown key 'processs'; expected one of launcher, processes, gpus, cpus, python, container, precision, ray_address, sbatch_args, models (did you mean processes?)")
        }
        XCTAssertThrowsError(try SiteConfig.parse("launcher: torchrn\n", file: "s.yaml")) {
            XCTAssertTrue("\($0)".hasPrefix("s.yaml:1:11: site.launcher: expected one of local, torchrun, ray, sbatch (did you mean torchrun?)"), "\($0)")
        }
        XCTAssertThrowsError(try SiteConfig.parse("processes: { dpo: 0 }\n", file: "s.yaml")) {
            XCTAssertTrue("\($0)".contains("site.processes.dpo: expected an integer >= 1"), "\($0)")
        }
        XCTAssertThrowsError(try SiteConfig.parse("models: [opt-125m]\n", file: "s.yaml")) {
            XCTAssertEqual("\($0)", "s.yaml:1:9: site.models: expected a map of model name → folder")
        }
        XCTAssertEqual(try SiteConfig.parse("models: { opt-125m: /m/opt }\n", file: "s.yaml").models, ["opt-125m": "/m/opt"])
        XCTAssertThrowsError(try SiteConfig.parse("precision: { trl: fp8 }\n", file: "s.yaml"))
    }

    /// Every launcher around a script (TRL) and around an engine that places its own workers (OpenRLHF).
    func testLauncherCommands() throws {
        func command(_ yaml: String, processes: Int = 2, gpus: Int = 0, own: Bool = false) throws -> String {
            let program = own ? EngineProgram(python: "/env/bin/python", entry: .module("openrlhf.cli.train_ppo_ray"), arguments: ["--a", "x y"],
                                              placesOwnWorkers: true)
                              : EngineProgram(python: "/env/bin/python", entry: .script("/R/trl_train.py"), arguments: ["/R/job.json"])
            return Launcher.command(site: try SiteConfig.parse(yaml, file: "s.yaml"), program: program, processes: processes, gpus: gpus,
                                    workDirectory: "/R", environment: ["B": "2", "A": "1"]).joined(separator: " ")
        }
        XCTAssertEqual(try command("launcher: local"), "/env/bin/python /R/trl_train.py /R/job.json")
        XCTAssertEqual(try command("launcher: torchrun"),
                       "/env/bin/python -m torch.distributed.run --standalone --nproc_per_node 2 /R/trl_train.py /R/job.json")
        XCTAssertEqual(try command("launcher: torchrun", own: true), "/env/bin/python -m openrlhf.cli.train_ppo_ray --a x y",
                       "an engine that places its own workers is never wrapped in torchrun")
        XCTAssertEqual(try command("launcher: ray\nray_address: http://h:8265", processes: 1, gpus: 2),
                       #"ray job submit --address http://h:8265 --runtime-env-json {"env_vars":{"A":"1","B":"2"}} --entrypoint-num-gpus 2 -- /env/bin/python /R/trl_train.py /R/job.json"#)
        XCTAssertEqual(try command("launcher: ray", gpus: 8, own: true),
                       #"ray job submit --runtime-env-json {"env_vars":{"A":"1","B":"2"}} -- /env/bin/python -m openrlhf.cli.train_ppo_ray --a 'x y'"#,
                       "no GPUs reserved for the entrypoint of an engine with its own placement groups; words quoted for Ray's shell")
        XCTAssertEqual(try command("launcher: sbatch\nsbatch_args: [--partition=gpu]", processes: 1, gpus: 8),
                       "sbatch --wait --job-name preflab --chdir /R --output /R/engine-%j.log --gpus 8 --partition=gpu --wrap /env/bin/python /R/trl_train.py /R/job.json")
        XCTAssertEqual(try command("launcher: sbatch", processes: 2, gpus: 2),
                       "sbatch --wait --job-name preflab --chdir /R --output /R/engine-%j.log --gpus 2 --wrap /env/bin/python -m torch.distributed.run --standalone --nproc_per_node 2 /R/trl_train.py /R/job.json")
    }

    /// Resources per stage kind: an embedded node never reserves GPUs.
    func testResources() throws {
        let site = try SiteConfig.parse("gpus: { ppo: 8, default: 1 }\ncpus: { sft: 4 }\nprocesses: { dpo: 2 }\n", file: "s.yaml")
        XCTAssertEqual(site.resources(kind: "ppo", engine: "openrlhf"), NodeResources(cpus: 1, gpus: 8, processes: 1))
        XCTAssertEqual(site.resources(kind: "dpo", engine: "trl"), NodeResources(cpus: 1, gpus: 1, processes: 2))
        XCTAssertEqual(site.resources(kind: "sft", engine: "embedded"), NodeResources(cpus: 4, gpus: 0, processes: 1))
        XCTAssertThrowsError(try SiteConfig.parse("cpus: { sft: 0 }\n", file: "s.yaml")) {
            XCTAssertEqual("\($0)", "s.yaml:1:14: site.cpus.sft: expected an integer >= 1")
        }
    }

    /// A node's precision comes from its hash; a site that trains in another is refused, not obeyed.
    func testSitePrecisionCannotChangeANode() throws {
        let recipe = try S.recipe("Recipes/quickstart.yaml")
        let site = try SiteConfig.parse("precision: { trl: bfloat16 }", file: "s.yaml")
        XCTAssertThrowsError(try TRLRunner.precision(try S.stage(recipe, "dpo"), site: site)) {
            XCTAssertTrue("\($0)".contains("the site file trains trl in bfloat16, but this node's hash was made for float32"), "\($0)")
        }
    }
}

/// `preflab annotate`'s service: PrefLab's gold labels over JSON lines, budget included.
final class AnnotationServiceTests: XCTestCase {
    func testLabelsAndBudget() throws {
        let service = try AnnotationService(task: "word_collector", budget: 1, seed: 0)
        let prompt = #"{"messages":[{"role":"user","content":"Collect words"}]}"#
        let first = service.reply(#"{"prompt":\#(prompt),"a":"apple banana","b":"kiwi"}"#)
        XCTAssertTrue(first.hasPrefix(#"{"preferred":"#) && first.hasSuffix(#""used":1}"#), first)
        // The same pair in the other order is free and gets the mirrored answer.
        let mirrored = service.reply(#"{"prompt":\#(prompt),"a":"kiwi","b":"apple banana"}"#)
        XCTAssertNotEqual(first.prefix(15), mirrored.prefix(15))
        XCTAssertTrue(mirrored.hasSuffix(#""used":1}"#), mirrored)
        XCTAssertEqual(service.reply(#"{"prompt":\#(prompt),"a":"p","b":"q"}"#),
                       #"{"budget_exhausted":true,"error":"annotation budget of 1 labels exhausted"}"#)
        XCTAssertTrue(service.reply("nonsense").contains(#""budget_exhausted":false"#))
        XCTAssertThrowsError(try AnnotationService(task: "no_such_task", budget: nil, seed: 0))
    }

    /// Contrastive Distillation: the engine's script brings each response's mean log-likelihoods [large, small]; PrefLab
    /// makes R* (large − small) and the label; a request without them is refused, not guessed.
    func testContrastiveDistillationTakesTheEnginesLogLikelihoods() throws {
        let service = try AnnotationService(task: "contrastive_distillation", budget: nil, seed: 0)
        let prompt = #"{"messages":[{"role":"user","content":"The cat sat"}]}"#
        // R*(a) = -1 + 3 = 2 beats R*(b) = -0.5 + 1 = 0.5; then R*(u) = 0 loses to R*(v) = 2.
        let first = service.reply(#"{"prompt":\#(prompt),"a":"x","b":"y","log_likelihoods":{"a":[-1,-3],"b":[-0.5,-1]}}"#)
        XCTAssertTrue(first.hasPrefix(#"{"preferred":0"#), first)
        let second = service.reply(#"{"prompt":\#(prompt),"a":"u","b":"v","log_likelihoods":{"a":[-1,-1],"b":[-2,-4]}}"#)
        XCTAssertTrue(second.hasPrefix(#"{"preferred":1"#), second)
        let missing = service.reply(#"{"prompt":\#(prompt),"a":"p","b":"q"}"#)
        XCTAssertTrue(missing.contains("log_likelihoods") && missing.contains(#""budget_exhausted":false"#), missing)
    }

    /// The probe of an engine's judges (`--probe-every`, D2PO Fig. 6): R* (here CD's, large − small) decides each pair,
    /// ties are dropped, an even judge earns half; values only at a window's end; the budget is never charged.
    func testProbeScoresTheEnginesJudgesByPrefLabsRule() throws {
        let service = try AnnotationService(task: "contrastive_distillation", budget: 1, seed: 0, probeEvery: 2)
        let prompt = #"{"messages":[{"role":"user","content":"The cat sat"}]}"#
        func pair(_ a: String, _ b: String) -> String {
            #"{"prompt":\#(prompt),"a":"a\#(a)","b":"b\#(b)","log_likelihoods":{"a":\#(a),"b":\#(b)}}"#
        }
        func probe(_ step: Int, _ pairs: [String], _ judges: String) throws -> [String: Double] {
            let reply = service.reply(#"{"probe":{"step":\#(step),"total":4,"pairs":[\#(pairs.joined(separator: ","))],"judges":\#(judges)}}"#)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any], reply)
            return try XCTUnwrap(json["probe"] as? [String: Double], reply)
        }
        // R*: a wins (2 vs 0.5), b wins (0 vs 2), a tie (0 vs 0).
        let first = try probe(1, [pair("[-1,-3]", "[-0.5,-1]"), pair("[-1,-1]", "[-2,-4]"), pair("[0,0]", "[-1,-1]")],
                              #"{"discriminator":[[1,0],[1,0],[0,1]],"implicit":[[0,0],[0,1],[0,0]]}"#)
        XCTAssertEqual(first, [:], "step 1 of a 2-step window reports nothing")
        // a wins (2 vs 0).
        let window = try probe(2, [pair("[0,-2]", "[0,0]")], #"{"discriminator":[[3,1]],"implicit":[[0,1]]}"#)
        XCTAssertEqual(window["probe_pairs"], 3)
        XCTAssertEqual(window["probe_ties"], 1)
        XCTAssertEqual(window["probe_discriminator"] ?? 0, 2.0 / 3, accuracy: 1e-12, "right, wrong, right")
        XCTAssertEqual(window["probe_implicit"] ?? 0, 0.5, accuracy: 1e-12, "even (1/2), right, wrong")
        XCTAssertEqual(window["probe_gold_reward"] ?? 0, 6.5 / 8, accuracy: 1e-12, "mean R* of the 8 responses")
        XCTAssertTrue(service.reply(pair("[0,0]", "[0,-1]")).hasSuffix(#""used":1}"#), "the probe spent no label")
        let short = service.reply(#"{"probe":{"step":3,"total":4,"pairs":[\#(pair("[0,0]", "[0,-1]"))],"judges":{"implicit":[]}}}"#)
        XCTAssertTrue(short.contains("judge implicit has 0 score pairs for 1 pairs"), short)
        let none = try AnnotationService(task: "word_collector", budget: nil, seed: 0)
        XCTAssertTrue(none.reply(#"{"probe":{"step":1,"total":1,"pairs":[],"judges":{}}}"#).contains("--probe-every"))
    }
}
