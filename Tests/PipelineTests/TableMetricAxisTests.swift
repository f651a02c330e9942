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

    func testAxisPlaceholderMayNameTheStageAndItMustExistInTheCell() throws {
        let stage = ResolvedStage(name: "bon", kind: "fake", config: ConfigNode(.map([])), inputs: [], location: nil)
        let cell = RecipeCell(matrix: [(axis: "measure", value: .string("bon.mean"))], stages: [stage])
        let value = TableBuilder.cellMetric("{measure}", cell)
        XCTAssertEqual(try TableBuilder.splitValue(value, in: cell, template: "{measure}").0, "bon")
        XCTAssertEqual(try TableBuilder.splitValue(value, in: cell, template: "{measure}").1, "mean")
        XCTAssertThrowsError(try TableBuilder.splitValue("rm.accuracy", in: cell, template: "{measure}")) { error in
            XCTAssertTrue("\(error)".contains("stage 'rm' is not a stage of cell"), "\(error)")
        }
    }
}
