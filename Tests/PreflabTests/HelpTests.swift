import Foundation
import XCTest
@testable import preflab

/// Help screens are part of the interface: golden files under Golden/ pin them.
/// After an intended change, regenerate with `PREFLAB_UPDATE_GOLDEN=1 swift test --filter HelpTests`.
final class HelpTests: XCTestCase {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    func check(_ name: String, _ text: String) throws {
        let url = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["PREFLAB_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(text, try String(contentsOf: url, encoding: .utf8), "help screen \(name) changed")
    }

    func testRootHelp() throws { try check("root.txt", Preflab.helpMessage(columns: 100)) }
    func testRunHelp() throws { try check("run.txt", Preflab.helpMessage(for: Run.self, columns: 100)) }
    func testDiffHelp() throws { try check("diff.txt", Preflab.helpMessage(for: Diff.self, columns: 100)) }
    func testValidateHelp() throws { try check("validate.txt", Preflab.helpMessage(for: Validate.self, columns: 100)) }

    func testRootHelpListsCommands() {
        let help = Preflab.helpMessage(columns: 100)
        for command in ["run", "resolve", "plan", "diff", "validate", "stages", "gc", "data"] {
            XCTAssertTrue(help.contains("  \(command)"), "help lacks \(command):\n\(help)")
        }
    }
}
