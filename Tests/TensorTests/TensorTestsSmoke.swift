import XCTest
@testable import Tensor

final class TensorTestsSmoke: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
