import XCTest
@testable import RecipeSpec

/// `plots:` is read into `PlotSpec`s and checked against the matrix and the stages.
final class PlotSpecTests: XCTestCase {
    /// A recipe whose `algorithm` axis names stages; `plots` is appended by each test.
    static let base = """
        name: m
        matrix: { task: [a, b], algorithm: [policy, train], seed: [1, 2] }
        stages:
          policy: { kind: sft, task: "${matrix.task}" }
          prefs: { kind: task_preferences, task: t, policy: policy }
          train: { kind: dpo, policy: policy, preferences: prefs, seed: "${matrix.seed}" }

        """

    func testPlotsAreReadInDeclarationOrder() throws {
        let r = try loadText(Self.base + """
            plots:
              reward:
                stage: "{algorithm}"
                x: step
                y: [loss, reward]
                lines: algorithm
                panels: task
                aggregate: seed
                title: Reward
                y_label: gold reward
              loss: { stage: train, x: gold_used, y: loss, lines: [algorithm, task], aggregate: seed }
            """)
        XCTAssertEqual(r.plots.map(\.name), ["reward", "loss"])
        XCTAssertEqual(r.plots[0].spec, PlotSpec(stage: "{algorithm}", x: "step", y: ["loss", "reward"], lines: ["algorithm"],
                                                 panels: ["task"], aggregate: "seed", title: "Reward", yLabel: "gold reward"))
        XCTAssertEqual(r.plots[1].spec, PlotSpec(stage: "train", x: "gold_used", y: ["loss"], lines: ["algorithm", "task"],
                                                 aggregate: "seed"))
        XCTAssertEqual(r.plots[0].spec.stage(in: r.cells[0]), "policy")
        XCTAssertEqual(r.plots[0].spec.stage(in: r.cells[2]), "train")   // task=a, algorithm=train, seed=1
        XCTAssertEqual(r.plots[1].spec.stage(in: r.cells[2]), "train")
    }

    func testScalesAndSetChangePlots() throws {
        let text = Self.base + """
            scales:
              smoke: { matrix: { seed: [1] }, plots: { reward: { title: Smoke } } }
            plots:
              reward: { stage: train, x: step, y: loss, lines: algorithm, panels: task, aggregate: seed, title: Full }
            """
        XCTAssertEqual(try loadText(text, overrides: ["scale=smoke"]).plots[0].spec.title, "Smoke")
        XCTAssertEqual(try loadText(text, overrides: ["plots.reward.x=gold_used"]).plots[0].spec.x, "gold_used")
        // With one seed left, the plot need not place the seed axis.
        let one = try loadText(text, overrides: ["matrix.seed=[1]", "plots.reward.aggregate=null"])
        XCTAssertNil(one.plots[0].spec.aggregate)
    }

    func testResolveAndDiffShowPlots() throws {
        let text = Self.base + "plots:\n  r: { stage: train, x: step, y: loss, lines: [algorithm, task, seed] }\n"
        let a = try loadText(text), b = try loadText(text, overrides: ["plots.r.y=[loss, kl]"])
        XCTAssertTrue(RecipeRenderer.yaml(a).contains("plots:\n  r:\n    lines: [algorithm, task, seed]\n    stage: train\n    x: step\n    y: [loss]\n"),
                      RecipeRenderer.yaml(a))
        XCTAssertEqual(RecipeDiff.between(a, b).render(), "~ plots.r.y: [loss] -> [loss, kl]\n")
    }

    func testKeyAxisAndStageErrors() {
        let errs = errorsOf(Self.base + """
            plots:
              r: { stage: trian, x: step, y: loss, lnes: algorithm, panels: tsk, aggregate: seed }
              s: { stage: "{algo}", x: step, y: loss, lines: [algorithm, task], aggregate: seed }
              t: { stage: "{algorthm}_x", x: step, y: loss, lines: [algorithm, task], aggregate: seed }
            """)
        XCTAssertEqual(errs, [
            "r.yaml:8:15: error: plots.r.stage: unknown stage 'trian'; did you mean 'train'?",
            "r.yaml:8:40: error: plots.r.lnes: unknown key in plot; did you mean 'lines'?",
            "r.yaml:8:65: error: plots.r.panels: 'tsk' is not a matrix axis; did you mean 'task'?",
            "r.yaml:9:15: error: plots.s.stage: '{algo}' is not a matrix axis; expected '{axis}' with one of task, algorithm, seed",
            "r.yaml:10:15: error: plots.t.stage: '{algorthm}' is not a matrix axis; did you mean '{algorithm}_x'?",
        ])
    }

    func testAnAxisIsPlacedAtMostOnce() {
        // An unplaced axis is left to the builder (only the graph knows whether it splits a curve).
        XCTAssertEqual(errorsOf(Self.base + """
            plots:
              r: { stage: train, x: step, y: loss, aggregate: seed }
              u: { stage: train, x: step, y: loss, lines: [task, algorithm, seed], panels: task }
            """), [
            "r.yaml:9:6: error: plots.u: matrix axis 'task' is placed twice; expected each axis in at most one of lines, panels, aggregate",
        ])
    }

    func testTemplateMustNameAStageInEveryCell() {
        let text = Self.base.replacingOccurrences(of: "algorithm: [policy, train]", with: "algorithm: [policy, train, dpo]")
        XCTAssertEqual(errorsOf(text + "plots:\n  r: { stage: \"{algorithm}\", x: step, y: loss, lines: algorithm, panels: task, aggregate: seed }\n"), [
            "r.yaml:8:15: error: plots.r.stage: '{algorithm}' gives 'dpo' in cell task=a,algorithm=dpo,seed=1, which is not a stage; expected every cell to name a stage of this recipe",
        ])
        // A value dropped by exclude is never substituted.
        let excluded = text + "exclude: [{ algorithm: dpo }]\n"
        XCTAssertEqual(errorsOf(excluded + "plots:\n  r: { stage: \"{algorithm}\", x: step, y: loss, lines: algorithm, panels: task, aggregate: seed }\n"), [])
    }

    func testMissingAndMalformedKeys() {
        XCTAssertEqual(errorsOf(Self.base + "plots:\n  r: { stage: train, lines: [algorithm, task], aggregate: seed, aggregate2: 1 }\n  s: [1]\n  t: { stage: train, x: 3, y: [loss, 2], lines: [task, algorithm, seed], panels: task }\n"), [
            "r.yaml:8:6: error: plots.r.x: missing required key 'x'; expected 'step' or the name of a recorded value",
            "r.yaml:8:6: error: plots.r.y: missing required key 'y'; expected a metric name or a list of them, e.g. [reward, loss]",
            "r.yaml:8:65: error: plots.r.aggregate2: unknown key in plot; did you mean 'aggregate'?",
            "r.yaml:9:6: error: plots.s: wrong type: got a list; expected a map with stage, x and y, or value and x",
            "r.yaml:10:25: error: plots.t.x: wrong type: got int 3; expected 'step' or the name of a recorded value",
            "r.yaml:10:31: error: plots.t.y: wrong type: got a list; expected a metric name or a list of them, e.g. [reward, loss]",
        ])
        XCTAssertEqual(errorsOf(Self.base + "plots: [a]\n"),
                       ["r.yaml:7:8: error: plots: wrong type: got a list; expected a map from plot name to { stage, x, y, ... } or { value, x, ... }"])
    }

    func testAxisTemplate() {
        XCTAssertEqual(AxisTemplate.placeholders("{a}_x_{bc}"), ["a", "bc"])
        XCTAssertEqual(AxisTemplate.placeholders("plain"), [])
        XCTAssertEqual(AxisTemplate.substitute("{a}_{b}", [("a", .string("dpo")), ("b", .int(3))]), "dpo_3")
        XCTAssertEqual(AxisTemplate.substitute("{c}", [("a", .string("dpo"))]), "{c}")
    }
}
