import XCTest
@testable import Pipeline

final class PipelineTestsSmoke: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
