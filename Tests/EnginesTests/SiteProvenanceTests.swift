import Engines
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// Where, apart from what: the site file is recorded in a delegated node's node.json and never changes a hash.
final class SiteProvenanceTests: XCTestCase {
    typealias S = EngineTestSupport

    /// Stands in for the TRL runner (this test is about the executor's record, not about TRL): writes one file.
    struct RecordingRunner: StageRunner {
        func run(_ context: NodeContext) throws {
            try Data("trained\n".utf8).write(to: context.outputDirectory.appendingPathComponent("model.txt"))
            context.reporter.summary(["loss": 0.5])
        }
    }

    func site(_ name: String) throws -> SiteConfig {
        try SiteConfig.load(file: S.repo.appendingPathComponent("examples/\(name)").path)
    }

    /// Two sites plan the same nodes; a node made under one is a cache hit under the other, and its node.json
    /// names the site it was made on (embedded nodes carry no site).
    func testSiteIsProvenanceAndNeverAHashInput() throws {
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: ["scale=smoke", "engine=trl"])
        let graph = try StageSpecs.graph(recipe)
        let sft = try XCTUnwrap(graph.nodes.first { $0.kind == "sft" })
        XCTAssertEqual(sft.engine, "trl")
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.root) }
        let (local, slurm) = (try site("site-local.yaml"), try site("site-slurm.yaml"))

        // The plans differ in their commands only: the same node hashes in the same order.
        func hashes(_ site: SiteConfig) -> [String] {
            LaunchPlan.render(graph: graph, store: store, site: site, runners: DelegatedRunners.all(site: site))
                .split(separator: "\n").filter { $0.hasPrefix("# ") && $0.contains(" on ") }.map { String($0.suffix(64)) }
        }
        XCTAssertEqual(hashes(local), graph.nodes.map(\.hash))
        XCTAssertEqual(hashes(slurm), hashes(local))

        var runners = EmbeddedRunners.all
        runners[RunnerKey(kind: "sft", engine: "trl")] = RecordingRunner()
        EmbeddedRunners.configureEngine(threads: 1)
        let first = try Executor(store: store, runners: runners, site: local.provenanceJSON).run(graph, targets: [sft.hash])
        XCTAssertEqual(first.ranCount, 2, "tokenizer and sft")
        let second = try Executor(store: store, runners: runners, site: slurm.provenanceJSON).run(graph, targets: [sft.hash])
        XCTAssertEqual(second.ranCount, 0, "another site is not another node")

        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: store.objectDirectory(for: sft.hash)
            .appendingPathComponent("node.json"))) as? [String: Any]
        let recorded = try XCTUnwrap(record?["site"] as? [String: Any], "a delegated node records its site")
        XCTAssertEqual(recorded["launcher"] as? String, "local")
        XCTAssertEqual((recorded["python"] as? [String: String])?["trl"], ".venv-engines/bin/python")
        XCTAssertEqual((recorded["precision"] as? [String: String])?["trl"], "float32")
        XCTAssertTrue((recorded["file"] as? String)?.hasSuffix("examples/site-local.yaml") ?? false)
        XCTAssertEqual(store.record(for: sft.hash)?.hash, sft.hash)
        let tokenizer = try XCTUnwrap(sft.inputs.first).hash
        let embedded = try JSONSerialization.jsonObject(with: Data(contentsOf: store.objectDirectory(for: tokenizer)
            .appendingPathComponent("node.json"))) as? [String: Any]
        XCTAssertNil(embedded?["site"], "an embedded node does not run on the site's engines")
    }

    /// A container's words go before the interpreter, under every launcher.
    func testContainerWrapsTheInterpreter() throws {
        let slurm = try site("site-slurm.yaml")
        let program = slurm.program(engine: "openrlhf", entry: .module("m"), arguments: ["--x"], placesOwnWorkers: true)
        XCTAssertEqual(program.plain, ["apptainer", "exec", "--nv", "/shared/images/openrlhf-0.11.2.sif", "python3", "-m", "m", "--x"])
        let command = Launcher.command(site: slurm, program: program, processes: 1, gpus: 8, workDirectory: "/R", environment: [:])
        XCTAssertEqual(command.last, "apptainer exec --nv /shared/images/openrlhf-0.11.2.sif python3 -m m --x")
        XCTAssertThrowsError(try SiteConfig.parse("container: { trl: apptainer }\n", file: "s.yaml")) {
            XCTAssertTrue("\($0)".hasPrefix("s.yaml:1:19: site.container.trl: expected a non-empty list of words"), "\($0)")
        }
    }
}
