import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// The embedded runners cover the catalogue exactly: every kind runs on the embedded engine.
final class SchemaTests: XCTestCase {
    func testEveryCatalogueKindHasAnEmbeddedRunnerAndNoRunnerIsUnknown() {
        let kinds = Set(StageSpecs.all.map(\.kind))
        let runners = Set(EmbeddedRunners.all.keys)
        XCTAssertEqual(runners, Set(kinds.map { RunnerKey(kind: $0) }))
        for spec in StageSpecs.all {
            XCTAssertEqual(spec.schema.engines.first?.engine, "embedded", spec.kind)
        }
    }
}
