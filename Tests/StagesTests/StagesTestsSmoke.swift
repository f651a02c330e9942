import XCTest
@testable import Stages

final class StagesTestsSmoke: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
