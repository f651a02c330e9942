import XCTest
@testable import Preference

final class PreferenceTestsSmoke: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
