import Foundation
import TestSupport
import XCTest

/// What a run of the `preflab` binary printed and how it exited.
struct PreflabOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the `preflab` binary built beside this test bundle in `directory` (skips where there is none).
func runPreflab(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> PreflabOutput {
    #if os(Linux)
    let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = bundle.deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("preflab").path), dir.path != "/" {
        dir = dir.deletingLastPathComponent()
    }
    let binary = dir.appendingPathComponent("preflab")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no preflab binary beside \(bundle.path)") }
    let result = try ChildProcess.run(binary.path, arguments, in: directory, environment: environment)
    return PreflabOutput(status: result.status, stdout: result.stdout, stderr: result.stderr)
    #else
    throw XCTSkip("the binary is found through /proc/self/exe (Linux)")
    #endif
}

/// `preflab data validate` and `data inspect` on Parquet and Arrow entries (the columnar fixtures).
final class DataCommandTests: XCTestCase {
    static let fixtures = ModelCommandTests.root.appendingPathComponent("Tests/PreferenceTests/Fixtures/data/columnar")

    func testValidateAndInspectColumnarEntries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fields = "layout: pair\nfields: {prompt: prompt, chosen: chosen, rejected: rejected}\n"
        try "source: {path: \"\(Self.fixtures.path)/p_snappy_dict_v2.parquet\"}\n\(fields)"
            .write(to: dir.appendingPathComponent("pq.yaml"), atomically: true, encoding: .utf8)
        try "source: {path: \"\(Self.fixtures.path)/save_to_disk\", pattern: \"data-*.arrow\"}\n\(fields)"
            .write(to: dir.appendingPathComponent("arrow.yaml"), atomically: true, encoding: .utf8)
        let env = ["PREFLAB_DATA_ROOT": Self.fixtures.path]
        let validate = try runPreflab(["data", "validate", "--catalog", dir.path], in: ModelCommandTests.root, environment: env)
        XCTAssertEqual(validate.status, 0, validate.stdout + validate.stderr)
        for name in ["arrow", "pq"] {
            XCTAssertTrue(validate.stdout.contains("warn  \(name): 31 rows kept of 40"), validate.stdout)
        }
        let inspect = try runPreflab(["data", "inspect", "pq", "--catalog", dir.path], in: ModelCommandTests.root, environment: env)
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("rows read 40, kept 31"), inspect.stdout)
        XCTAssertTrue(inspect.stdout.contains("p_snappy_dict_v2.parquet:10: "), "a skipped row is named by its row number\n\(inspect.stdout)")
    }
}
