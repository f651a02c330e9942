@testable import Engines
import Foundation
import XCTest

/// The CI smoke test of the engine path: `preflab run Recipes/quickstart.yaml --set scale=smoke --set engine=trl`
/// with a site file naming the engines' Python, through the built `preflab` binary, from an empty store. The
/// stages TRL runs (sft, reward_model, dpo) are made by TRL (each node has engine.json), the rest embedded.
/// Skipped, saying why, without `.venv-engines` or the binary.
final class QuickstartOnTRLTests: XCTestCase {
    typealias S = EngineTestSupport

    func testQuickstartSmokeRunsOnTRL() throws {
        guard let python = S.python else {
            print("QuickstartOnTRLTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        guard let preflab = try? TRLRunner.preflabExecutable() else {
            print("QuickstartOnTRLTests: skipped — no preflab binary beside the tests (swift build builds it)")
            throw XCTSkip("no preflab binary")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = dir.appendingPathComponent("site.yaml")
        try "launcher: local\npython:\n  trl: \(python)\n".write(to: site, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("store")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: preflab)
        process.arguments = ["run", "Recipes/quickstart.yaml", "--set", "scale=smoke", "--set", "engine=trl", "--site", site.path,
                             "--store", store.path, "--results", dir.appendingPathComponent("results").path]
        process.currentDirectoryURL = S.repo
        let log = dir.appendingPathComponent("run.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        (process.standardOutput, process.standardError) = (handle, handle)
        let start = Date()
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        print("QuickstartOnTRLTests: quickstart (smoke) with engine=trl in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        XCTAssertEqual(process.terminationStatus, 0, output)
        let objects = store.appendingPathComponent("objects")
        var delegated: [String] = []
        for hash in try FileManager.default.contentsOfDirectory(atPath: objects.path) {
            let node = objects.appendingPathComponent(hash)
            guard let data = FileManager.default.contents(atPath: node.appendingPathComponent("node.json").path),
                  let json = try JSONSerialization.jsonObject(with: data) as? [String: Any], let kind = json["kind"] as? String
            else { continue }
            if FileManager.default.fileExists(atPath: node.appendingPathComponent("engine.json").path) { delegated.append(kind) }
        }
        XCTAssertEqual(delegated.sorted(), ["dpo", "reward_model", "sft"], "the nodes TRL made")
    }
}
