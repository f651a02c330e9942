import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import XCTest

/// `preflab run --executor ray` against a real Ray cluster started on this machine (`ray.init()`, one worker per
/// core): the same nodes, hashes and results as the local executor, and a worker killed in the middle of a node
/// leaves the run to finish (Ray reruns the task; the rerun takes the dead worker's lease over once it expires).
/// Skipped, saying why, without the Ray environment (`bash scripts/setup-ray.sh`).
final class RayExecutorTests: XCTestCase {
    static let root = ValidateRecipesTests.root
    /// The built `preflab` next to this test bundle (the same build).
    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("preflab")
    /// Quickstart at smoke scale, with an SFT node long enough (~2 s) to be killed in the middle.
    static let overrides = ["scale=smoke", "stages.sft.examples=1500"]

    private var dir: URL!

    override func setUpWithError() throws {
        let python = ProcessInfo.processInfo.environment["PREFLAB_RAY_PYTHON"] ?? Self.root.appendingPathComponent(".venv-ray/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            let reason = "no Ray environment at \(python) (bash scripts/setup-ray.sh makes .venv-ray; PREFLAB_RAY_PYTHON names another)"
            print("RayExecutorTests skipped: \(reason)")
            throw XCTSkip(reason)
        }
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no preflab binary at \(Self.binary.path)")
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ray-executor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "python: { ray: \(python) }\n".write(to: dir.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { if let dir { try? FileManager.default.removeItem(at: dir) } }

    /// Starts `preflab run` on the quickstart into `store` (Ray or local).
    private func start(store: String, ray: Bool) throws -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.currentDirectoryURL = Self.root
        process.arguments = ["run", "Recipes/quickstart.yaml", "--store", dir.appendingPathComponent(store).path,
                             "--results", dir.appendingPathComponent("results-\(store)").path, "--threads", "1"]
            + Self.overrides.flatMap { ["--set", $0] }
            + (ray ? ["--executor", "ray", "--lease-seconds", "2", "--site", dir.appendingPathComponent("site.yaml").path] : [])
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = dir.appendingPathComponent("\(store).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return process
    }

    private func run(store: String, ray: Bool) throws {
        let process = try start(store: store, ray: ray)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, (try? String(contentsOf: dir.appendingPathComponent("\(store).log"), encoding: .utf8)) ?? "")
    }

    private func graph() throws -> PipelineGraph {
        try StageSpecs.graph(try RecipeLoader(catalog: StageSpecs.catalog)
            .load(file: Self.root.appendingPathComponent("Recipes/quickstart.yaml").path, overrides: Self.overrides))
    }

    /// Every node of the graph is in both stores, with the same files byte for byte (models, samples) and the same
    /// summary values but the timings.
    private func assertSameResults(_ a: String, _ b: String, _ graph: PipelineGraph) throws {
        let timing: Set<String> = ["seconds", "tokens_per_s"]
        let volatile: Set<String> = ["node.json", "summary.json", "log.txt", "metrics.jsonl", "manifest.json", "tensorboard"]
        for node in graph.nodes {
            let (x, y) = (try ArtifactStore(root: dir.appendingPathComponent(a)), try ArtifactStore(root: dir.appendingPathComponent(b)))
            XCTAssertTrue(x.isComplete(node.hash) && y.isComplete(node.hash), "\(node.stage.name) \(node.shortHash)")
            XCTAssertEqual(x.summary(for: node.hash)?.filter { !timing.contains($0.key) },
                           y.summary(for: node.hash)?.filter { !timing.contains($0.key) }, node.stage.name)
            let files = try FileManager.default.contentsOfDirectory(atPath: x.objectDirectory(for: node.hash).path)
            for file in files where !volatile.contains(file) {
                XCTAssertEqual(try Data(contentsOf: x.objectDirectory(for: node.hash).appendingPathComponent(file)),
                               try Data(contentsOf: y.objectDirectory(for: node.hash).appendingPathComponent(file)), "\(node.stage.name)/\(file)")
            }
        }
    }

    func testSameHashesAndResultsAsTheLocalExecutorAndAKilledWorker() throws {
        let graph = try graph()
        try run(store: "local", ray: false)
        try run(store: "ray", ray: true)
        try assertSameResults("local", "ray", graph)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("ray/objects").path).sorted(),
                       graph.nodes.map(\.hash).sorted(), "no other node")

        // Kill the Ray worker computing SFT as soon as it holds the node's lease.
        let sft = try XCTUnwrap(graph.nodes.first { $0.kind == "sft" })
        let store = try ArtifactStore(root: dir.appendingPathComponent("killed"))
        let process = try start(store: "killed", ray: true)
        var victims: (node: Int32, worker: Int32)?
        let deadline = Date().addingTimeInterval(90)
        while victims == nil, process.isRunning, Date() < deadline {
            let words = ((try? String(contentsOf: store.leasePath(for: sft.hash), encoding: .utf8)) ?? "").split(separator: " ")
            if words.count == 4, let pid = Int32(words[1]), let parent = Int32(words[2]) {
                XCTAssertEqual(kill(parent, SIGKILL), 0, "the Ray worker \(parent) running run-node \(pid)")
                victims = (pid, parent)
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let killed = try XCTUnwrap(victims, "never saw the SFT node's lease")
        XCTAssertFalse(store.isComplete(sft.hash), "killed before the node finished")
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, (try? String(contentsOf: dir.appendingPathComponent("killed.log"), encoding: .utf8)) ?? "")
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertNotEqual(kill(killed.node, 0), 0, "run-node died with its worker")
        try assertSameResults("local", "killed", graph)
    }
}
