import XCTest
import RecipeSpec
@testable import Pipeline

/// `{axis}` in a table's value picks a different metric of the same stage per cell.
final class TableMetricAxisTests: XCTestCase {
    func testAxisPlaceholderIsReplacedByTheCellsValue() {
        let cell = RecipeCell(matrix: [(axis: "dataset", value: .string("hh")), (axis: "category", value: .string("safety"))],
                              stages: [])
        XCTAssertEqual(TableBuilder.cellMetric("eval.{category}", cell), "eval.safety")
        XCTAssertEqual(TableBuilder.cellMetric("{dataset}_{category}", cell), "hh_safety")
        XCTAssertEqual(TableBuilder.cellMetric("mean", cell), "mean")
    }
}
