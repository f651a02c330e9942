import XCTest
@testable import RecipeSpec

/// Value plots (`value:` and a matrix axis as `x`) and `where:` are read and checked against the
/// matrix, with the same file:line:column, key path and did-you-mean as the rest of `plots:`.
final class ValuePlotSpecTests: XCTestCase {
    static let base = """
        name: m
        matrix: { prompt_set: [uf, remix, gsm], category: [reasoning, style], seed: [1, 2], epochs: [1, 3] }
        stages:
          policy: { kind: sft, task: t }
          prefs: { kind: task_preferences, task: t, policy: policy }
          train: { kind: dpo, policy: policy, preferences: prefs, seed: "${matrix.seed}", beta: "${matrix.epochs}" }

        """

    func testValuePlotIsRead() throws {
        let r = try loadText(Self.base + """
            plots:
              gsm:
                value: "train.{category}"
                x: prompt_set
                lines: epochs
                aggregate: seed
                where: { category: reasoning }
                title: Reasoning by prompts
              both: { value: train.loss, x: epochs, lines: category, where: { prompt_set: [uf, gsm] }, panels: prompt_set, aggregate: seed }
            """)
        XCTAssertEqual(r.plots[0].spec, PlotSpec(value: "train.{category}", x: "prompt_set", lines: ["epochs"], aggregate: "seed",
                                                 filter: [CellCondition(axis: "category", values: ["reasoning"])],
                                                 title: "Reasoning by prompts"))
        XCTAssertEqual(r.plots[1].spec.filter, [CellCondition(axis: "prompt_set", values: ["uf", "gsm"])])
        XCTAssertEqual(r.plots[1].spec.placedAxes, ["epochs", "category", "prompt_set", "seed"])
        XCTAssertEqual(r.cells.filter { r.plots[1].spec.selects($0.matrix) }.count, 2 * 2 * 2 * 2)
        XCTAssertTrue(RecipeRenderer.yaml(r).contains("""
              gsm:
                aggregate: seed
                lines: [epochs]
                title: Reasoning by prompts
                value: "train.{category}"
                where:
                  category: reasoning
                x: prompt_set
            """), RecipeRenderer.yaml(r))
    }

    func testWhereTakesNumbersAsWritten() throws {
        let r = try loadText(Self.base + """
            plots:
              p: { value: train.loss, x: prompt_set, where: { epochs: 3, seed: 1, category: style } }
            """)
        let kept = r.cells.filter { r.plots[0].spec.selects($0.matrix) }
        XCTAssertEqual(kept.map(\.label), ["uf", "remix", "gsm"].map { "prompt_set=\($0),category=style,seed=1,epochs=3" })
    }

    func testMisspeltAxesValuesAndStages() {
        XCTAssertEqual(errorsOf(Self.base + """
            plots:
              a: { value: trian.loss, x: prompt_sets, lines: epochs, aggregate: seed, where: { categroy: reasoning } }
              b: { value: train.loss, x: prompt_set, lines: epochs, aggregate: seed, where: { category: reasonin } }
              c: { value: "train.{categry}", x: prompt_set, lines: epochs, aggregate: seed, where: { category: [style, 2] } }
            """), [
            "r.yaml:8:15: error: plots.a.value: unknown stage 'trian'; did you mean 'train.loss'?",
            "r.yaml:8:30: error: plots.a.x: 'prompt_sets' is not a matrix axis; did you mean 'prompt_set'?",
            "r.yaml:8:84: error: plots.a.where.categroy: 'categroy' is not a matrix axis; did you mean 'category'?",
            "r.yaml:9:93: error: plots.b.where.category: 'reasonin' is not a value of matrix axis 'category'; did you mean 'reasoning'?",
            "r.yaml:10:15: error: plots.c.value: '{categry}' is not a matrix axis; expected '{axis}' with one of prompt_set, category, seed, epochs; did you mean 'train.{category}'?",
            "r.yaml:10:108: error: plots.c.where.category: '2' is not a value of matrix axis 'category'; expected one of reasoning, style",
        ])
    }

    func testStageAndYDoNotGoWithValueAndXIsRequired() {
        XCTAssertEqual(errorsOf(Self.base + """
            plots:
              a: { value: train.loss, stage: train, y: loss, x: prompt_set, lines: [category, epochs], aggregate: seed }
              b: { value: train.loss, lines: [category, epochs], aggregate: seed }
              c: { value: 3, x: [prompt_set], lines: [category, epochs], aggregate: seed }
            """), [
            "r.yaml:8:27: error: plots.a.stage: 'stage' does not go with 'value'; expected either value and x (one number per cell, from summary.json) or stage, x and y (curves from metrics.jsonl)",
            "r.yaml:8:41: error: plots.a.y: 'y' does not go with 'value'; expected either value and x (one number per cell, from summary.json) or stage, x and y (curves from metrics.jsonl)",
            "r.yaml:9:6: error: plots.b.x: missing required key 'x'; expected the matrix axis whose values are the x positions",
            "r.yaml:10:15: error: plots.c.value: wrong type: got int 3; expected 'stage.metric', e.g. eval.mean",
            "r.yaml:10:21: error: plots.c.x: wrong type: got a list; expected the matrix axis whose values are the x positions",
        ])
    }

    /// One number per cell: every axis with several values among the kept cells needs a place.
    func testEveryAxisMustBePlacedOrFixed() {
        XCTAssertEqual(errorsOf(Self.base + """
            plots:
              a: { value: train.loss, x: prompt_set, lines: epochs, where: { category: [reasoning, style] } }
              b: { value: train.loss, x: epochs, lines: [epochs, category], aggregate: seed, where: { prompt_set: uf } }
              c: { value: train.loss, x: epochs, lines: category, aggregate: seed, where: { prompt_set: uf, category: style } }
            """), [
            "r.yaml:8:6: error: plots.a: matrix axis 'category' has 2 values in the plotted cells but is not placed; expected it in lines, panels or aggregate, or fixed by where: { category: value }",
            "r.yaml:8:6: error: plots.a: matrix axis 'seed' has 2 values in the plotted cells but is not placed; expected it in lines, panels or aggregate, or fixed by where: { seed: value }",
            "r.yaml:9:6: error: plots.b: matrix axis 'epochs' is placed twice; expected each axis in at most one of x, lines, panels, aggregate",
        ])
    }

    func testWhereThatKeepsNoCell() {
        let text = Self.base + "exclude: [{ prompt_set: gsm, category: style }]\n"
        XCTAssertEqual(errorsOf(text + """
            plots:
              a: { value: train.loss, x: epochs, lines: seed, where: { prompt_set: gsm, category: style } }
            """), [
            "r.yaml:9:58: error: plots.a.where: no cell of the matrix meets every condition; expected values that occur together in some cell (exclude: may drop them)",
        ])
        XCTAssertEqual(errorsOf(text + "plots:\n  a: { value: train.loss, x: epochs, lines: seed, where: [gsm] }\n"), [
            "r.yaml:9:58: error: plots.a.where: wrong type: got a list; expected a map from matrix axis to a value or a list of values, e.g. { category: reasoning }",
        ])
    }
}
