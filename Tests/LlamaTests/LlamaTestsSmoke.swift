import XCTest
@testable import Llama

final class LlamaTestsSmoke: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
