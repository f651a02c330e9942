import XCTest
@testable import RecipeSpec

final class RecipeSpecTestsSmoke: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
