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
            XCTAssertEqual("\($0)", "s.yaml:2:11: site: unknown key 'processs'; expected one of launcher, processes, gpus, python, precision, ray_address, sbatch_args (did you mean processes?)")
        }
        XCTAssertThrowsError(try SiteConfig.parse("launcher: torchrn\n", file: "s.yaml")) {
            XCTAssertTrue("\($0)".hasPrefix("s.yaml:1:11: site.launcher: expected one of local, torchrun, ray, sbatch (did you mean torchrun?)"), "\($0)")
        }
        XCTAssertThrowsError(try SiteConfig.parse("processes: { dpo: 0 }\n", file: "s.yaml")) {
            XCTAssertTrue("\($0)".contains("site.processes.dpo: expected an integer >= 1"), "\($0)")
        }
        XCTAssertThrowsError(try SiteConfig.parse("precision: { trl: fp8 }\n", file: "s.yaml"))
    }

    func testLauncherCommands() throws {
        func command(_ yaml: String, processes: Int = 2, gpus: Int = 0) throws -> String {
            Launcher.command(site: try SiteConfig.parse(yaml, file: "s.yaml"), python: "/env/bin/python", script: "/R/trl_train.py",
                             job: "/R/job.json", processes: processes, gpus: gpus, workDirectory: "/R").joined(separator: " ")
        }
        XCTAssertEqual(try command("launcher: local"), "/env/bin/python /R/trl_train.py /R/job.json")
        XCTAssertEqual(try command("launcher: torchrun"),
                       "/env/bin/python -m torch.distributed.run --standalone --nproc_per_node 2 /R/trl_train.py /R/job.json")
        XCTAssertEqual(try command("launcher: ray\nray_address: http://h:8265"),
                       "ray job submit --address http://h:8265 --working-dir /R -- /env/bin/python /R/trl_train.py /R/job.json")
        XCTAssertEqual(try command("launcher: sbatch\nsbatch_args: [--partition=gpu]", processes: 1, gpus: 8),
                       "sbatch --wait --job-name preflab --output /R/engine-%j.log --gpus 8 --partition=gpu --wrap /env/bin/python /R/trl_train.py /R/job.json")
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
}
