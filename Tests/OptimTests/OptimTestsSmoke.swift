import XCTest
@testable import Optim

final class OptimTestsSmoke: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
