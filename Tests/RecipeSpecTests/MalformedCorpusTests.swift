import Foundation
import XCTest
@testable import RecipeSpec

/// Runs every recipe under Fixtures/malformed/ (parts/ holds files they extend) and compares the
/// first error line with the sidecar `NAME.expected`; `NAME.args` holds `--set` values, one a line.
///
/// Paths in messages are shown relative to Fixtures/. To write missing sidecars after adding a
/// case, run with `RECIPE_WRITE_EXPECTED=1` and review every written line by hand.
final class MalformedCorpusTests: XCTestCase {
    static let sourceFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    func cases() throws -> [String] {
        let dir = Fixtures.path("malformed")
        return try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The first error of a case, with the fixture root made relative.
    func firstError(_ name: String) throws -> String? {
        let base = Fixtures.path("malformed/" + name)
        let args = (try? String(contentsOfFile: base + ".args", encoding: .utf8))?
            .split(separator: "\n").map(String.init) ?? []
        do {
            _ = try TestCatalog.loader.load(file: base + ".yaml", overrides: args)
            return nil
        } catch let e as RecipeErrors {
            XCTAssertFalse(e.errors.isEmpty, name)
            return e.errors.first?.description.replacingOccurrences(of: Fixtures.root + "/", with: "")
        }
    }

    func testCorpusHasAtLeastThirtyCases() throws {
        XCTAssertGreaterThanOrEqual(try cases().count, 30)
    }

    func testEveryMalformedRecipeGivesItsExpectedFirstError() throws {
        let write = ProcessInfo.processInfo.environment["RECIPE_WRITE_EXPECTED"] == "1"
        for name in try cases() {
            guard let got = try firstError(name) else {
                XCTFail("\(name): loaded without error")
                continue
            }
            let expectedPath = Fixtures.path("malformed/\(name).expected")
            guard let expected = try? String(contentsOfFile: expectedPath, encoding: .utf8) else {
                if write {
                    try (got + "\n").write(toFile: "\(Self.sourceFixtures)/malformed/\(name).expected", atomically: true, encoding: .utf8)
                    print("wrote \(name).expected: \(got)")
                } else {
                    XCTFail("\(name): no .expected sidecar; got: \(got)")
                }
                continue
            }
            let first = expected.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertEqual(got, first, name)
        }
    }
}
