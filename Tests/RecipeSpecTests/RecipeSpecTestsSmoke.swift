import XCTest
@testable import RecipeSpec

/// Where the test fixtures are (copied as resources).
enum Fixtures {
    static var root: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.path ?? ""
    }
    static func path(_ relative: String) -> String { root + "/" + relative }
}

final class RecipeSpecTestsSmoke: XCTestCase {
    func testTable2Loads() throws {
        do {
            let r = try TestCatalog.loader.load(file: Fixtures.path("valid/table2.yaml"))
            print(RecipeRenderer.yaml(r))
        } catch { print(error); throw error }
    }
}
