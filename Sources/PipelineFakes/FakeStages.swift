import Foundation
import Pipeline
import RecipeSpec

/// Fake stage kinds with schemas and runners: fast, deterministic, and each exercising one
/// executor behaviour. Every runner writes `value.txt` (its number) and reports `value` in its summary.
///
/// - `constant`: `value` (number), `steps` (int, 3), `tag` (string, ""); records `steps` points.
/// - `sum`: `inputs` (list of stage names), `offset` (number, 0); sums its inputs' values.
/// - `sleep`: `seconds` (number, 0.2), `tag`, `after` (optional stage); sleeps, logs its interval.
/// - `fail`: `message` (string), `after` (optional stage); writes a partial file and throws.
/// - `halfwrite`: `value` (number); the first attempt writes half its output and a checkpoint in the
///   resume folder, then throws; an attempt that finds the checkpoint finishes.
/// - `curve`: `values` (list of numbers), `stride` (int, 1), `nan_at` (int, 0); records point i (from
///   1) at step i × stride with `score` = values[i], `half` = score / 2 and `used` = 10 × step;
///   point `nan_at` records `score` as NaN (0: none). For plots.
public enum FakeStages {
    /// The fake kinds' schemas.
    public static let schemas: [StageSchema] = [
        StageSchema(kind: "constant", summary: "Emits a constant.", fields: [
            FieldSchema("value", .double, doc: "The number to emit."),
            FieldSchema("steps", .int, default: .int(3), doc: "Progress points to record."),
            FieldSchema("tag", .string, default: .string(""), doc: "Free label (changes the hash)."),
        ]),
        StageSchema(kind: "sum", summary: "Sums its inputs' values.", fields: [
            FieldSchema("inputs", .list(.stageRef(accepts: [])), doc: "Stages whose values are summed."),
            FieldSchema("offset", .double, default: .double(0), doc: "Added to the sum."),
        ]),
        StageSchema(kind: "sleep", summary: "Sleeps, recording when.", fields: [
            FieldSchema("seconds", .double, default: .double(0.2), doc: "How long to sleep."),
            FieldSchema("tag", .string, default: .string(""), doc: "Free label (changes the hash)."),
            FieldSchema("after", .stageRef(accepts: []), optional: true, doc: "A stage to depend on."),
        ]),
        StageSchema(kind: "fail", summary: "Always fails.", fields: [
            FieldSchema("message", .string, default: .string("fake failure"), doc: "The error message."),
            FieldSchema("after", .stageRef(accepts: []), optional: true, doc: "A stage to depend on."),
        ]),
        StageSchema(kind: "halfwrite", summary: "Fails once after writing half, then resumes.", fields: [
            FieldSchema("value", .double, doc: "The number to emit."),
        ]),
        StageSchema(kind: "curve", summary: "Records a given curve.", fields: [
            FieldSchema("values", .list(.double), doc: "The score at each recorded point."),
            FieldSchema("stride", .int, default: .int(1), doc: "Steps between recorded points."),
            FieldSchema("nan_at", .int, default: .int(0), doc: "Point (from 1) whose score is NaN; 0: none."),
        ]),
    ]

    /// A catalog of the fake kinds.
    public static var catalog: StageCatalog { StageCatalog(schemas) }

    /// Runners for every fake kind, recording into `ledger`.
    public static func runners(ledger: FakeLedger) -> [RunnerKey: any StageRunner] {
        RunnerKey.embedded(["constant": ConstantRunner(ledger: ledger), "sum": SumRunner(ledger: ledger),
                            "sleep": SleepRunner(ledger: ledger), "fail": FailRunner(ledger: ledger),
                            "halfwrite": HalfWriteRunner(ledger: ledger), "curve": CurveRunner(ledger: ledger)])
    }

    /// A resolved stage of a fake kind: defaults filled from the schema, inputs from its stage-ref fields
    /// (list elements named `field[i]`, as the recipe loader does).
    public static func stage(_ name: String, _ kind: String, _ fields: [(String, ConfigValue)] = []) -> ResolvedStage {
        var entries: [(key: String, value: ConfigNode)] = fields.map { ($0.0, ConfigNode($0.1)) }
        var inputs: [(field: String, stage: String)] = []
        for field in schemas.first(where: { $0.kind == kind })?.fields ?? [] {
            if !entries.contains(where: { $0.key == field.name }), let d = field.defaultValue {
                entries.append((field.name, ConfigNode(d)))
            }
            guard case .some(let node) = entries.first(where: { $0.key == field.name })?.value else { continue }
            switch (field.type, node.value) {
            case let (.stageRef, .string(s)): inputs.append((field.name, s))
            case let (.list(.stageRef), .list(items)):
                for (i, item) in items.enumerated() {
                    if case let .string(s) = item.value { inputs.append(("\(field.name)[\(i)]", s)) }
                }
            default: break
            }
        }
        return ResolvedStage(name: name, kind: kind, config: ConfigNode(.map(entries)), inputs: inputs, location: nil)
    }

    /// A recipe over the given cells; its document lists every cell's label and stage configs.
    public static func recipe(_ name: String, cells: [RecipeCell], table: TableSpec? = nil,
                              plots: [(name: String, spec: PlotSpec)] = []) -> ResolvedRecipe {
        let cellNodes = cells.map { cell in
            ConfigNode(.map([("matrix", ConfigNode(.string(cell.label))),
                             ("stages", ConfigNode(.map(cell.stages.map { ($0.name, $0.config) })))]))
        }
        let document = ConfigNode(.map([("name", ConfigNode(.string(name))), ("cells", ConfigNode(.list(cellNodes)))]))
        var recipe = ResolvedRecipe(name: name, file: name + ".yaml", cells: cells, table: table, document: document)
        recipe.plots = plots
        return recipe
    }

    /// Writes `value.txt` into a node's output folder.
    static func writeValue(_ value: Double, _ context: NodeContext) throws {
        try FileWriter.write("\(value)\n", to: context.outputDirectory.appendingPathComponent("value.txt"))
    }

    /// Reads `value.txt` from a finished node folder.
    public static func readValue(_ folder: URL) throws -> Double {
        let url = folder.appendingPathComponent("value.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8),
              let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FakeStageError("cannot read a number from \(url.path)")
        }
        return v
    }

    static func number(_ context: NodeContext, _ key: String) -> Double? {
        guard case let .map(entries) = context.stage.config.value,
              let v = entries.first(where: { $0.key == key })?.value.value else { return nil }
        switch v {
        case let .double(d): return d
        case let .int(i): return Double(i)
        default: return nil
        }
    }

    static func string(_ context: NodeContext, _ key: String) -> String? {
        guard case let .map(entries) = context.stage.config.value,
              case let .string(s)? = entries.first(where: { $0.key == key })?.value.value else { return nil }
        return s
    }
}

struct ConstantRunner: StageRunner {
    let ledger: FakeLedger
    func run(_ context: NodeContext) throws {
        ledger.called("constant", context.hash)
        guard let value = FakeStages.number(context, "value") else { throw FakeStageError("constant: missing 'value'") }
        let steps = Int(FakeStages.number(context, "steps") ?? 3)
        for step in 1...max(1, steps) {
            context.reporter.record(step: step, of: steps, values: ["loss": value / Double(step)])
        }
        context.reporter.log("constant \(value)")
        try FakeStages.writeValue(value, context)
        context.reporter.summary(["value": value, "steps": Double(steps)])
    }
}

struct SumRunner: StageRunner {
    let ledger: FakeLedger
    func run(_ context: NodeContext) throws {
        ledger.called("sum", context.hash)
        var total = FakeStages.number(context, "offset") ?? 0
        for folder in context.inputList("inputs") { total += try FakeStages.readValue(folder) }
        context.reporter.record(step: 1, of: 1, values: ["value": total])
        try FakeStages.writeValue(total, context)
        context.reporter.summary(["value": total])
    }
}

struct SleepRunner: StageRunner {
    let ledger: FakeLedger
    func run(_ context: NodeContext) throws {
        ledger.called("sleep", context.hash)
        let start = Date()
        Thread.sleep(forTimeInterval: FakeStages.number(context, "seconds") ?? 0.2)
        ledger.span(context.hash, start, Date())
        try FakeStages.writeValue(0, context)
        context.reporter.summary(["value": 0])
    }
}

struct FailRunner: StageRunner {
    let ledger: FakeLedger
    func run(_ context: NodeContext) throws {
        ledger.called("fail", context.hash)
        try FileWriter.write("partial", to: context.outputDirectory.appendingPathComponent("partial.txt"))
        throw FakeStageError(FakeStages.string(context, "message") ?? "fake failure")
    }
}

struct HalfWriteRunner: StageRunner {
    let ledger: FakeLedger
    func run(_ context: NodeContext) throws {
        ledger.called("halfwrite", context.hash)
        let value = FakeStages.number(context, "value") ?? 0
        try FileWriter.write("first half", to: context.outputDirectory.appendingPathComponent("half.txt"))
        let checkpoint = context.resumeDirectory.appendingPathComponent("checkpoint.txt")
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            try FileWriter.write("step 5\n", to: checkpoint)
            throw FakeStageError("halfwrite: interrupted after writing half")
        }
        ledger.resumed(context.hash)
        try FakeStages.writeValue(value, context)
        context.reporter.summary(["value": value])
    }
}

struct CurveRunner: StageRunner {
    let ledger: FakeLedger
    func run(_ context: NodeContext) throws {
        ledger.called("curve", context.hash)
        guard case let .list(items)? = context.stage.config["values"]?.value else { throw FakeStageError("curve: missing 'values'") }
        let values = items.compactMap(\.double)
        let stride = Int(FakeStages.number(context, "stride") ?? 1), nanAt = Int(FakeStages.number(context, "nan_at") ?? 0)
        for (i, v) in values.enumerated() {
            let step = (i + 1) * stride
            let score = i + 1 == nanAt ? Double.nan : v
            context.reporter.record(step: step, of: values.count * stride,
                                    values: ["score": score, "half": score / 2, "used": Double(10 * step)])
        }
        try FakeStages.writeValue(values.last ?? 0, context)
        context.reporter.summary(["value": values.last ?? 0])
    }
}
