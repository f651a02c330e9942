import XCTest
@testable import preflab

final class HelpTests: XCTestCase {
    func testRootHelpListsCommands() {
        let help = Preflab.helpMessage()
        for command in ["run", "resolve", "plan", "diff", "validate", "stages", "gc", "data"] {
            XCTAssertTrue(help.contains("  \(command)"), "help lacks \(command):\n\(help)")
        }
    }
}
