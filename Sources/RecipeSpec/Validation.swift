import Foundation

/// Validates one cell's stages against their kinds' schemas: kinds, keys, types, required
/// fields, defaults, stage references and the acyclicity of the stage graph.
struct StageValidator {
    let catalog: StageCatalog
    let resolver: ReferenceResolver
    let stages: [(name: String, node: ConfigNode)]
    /// The recipe's (or the cell's `engine` axis's) engine: each stage whose kind runs there gets it.
    let defaultEngine: ConfigNode?
    var diags = Diagnostics()

    init(catalog: StageCatalog, resolver: ReferenceResolver, stages: [(name: String, node: ConfigNode)],
         defaultEngine: ConfigNode? = nil) {
        self.catalog = catalog
        self.resolver = resolver
        self.stages = stages
        self.defaultEngine = defaultEngine
    }

    /// The resolved stages, or nil when any error was found (errors in `diags`).
    mutating func validate() -> [ResolvedStage]? {
        var out: [ResolvedStage] = []
        var complete = true
        for (name, node) in stages {
            // A stage with errors still takes part in the reference checks, so all are reported.
            guard let (s, ok) = validateStage(name, node) else { complete = false; continue }
            out.append(s)
            complete = complete && ok
        }
        checkInputs(out)
        if diags.isEmpty { checkAcyclic(out) }
        diags.add(contentsOf: resolver.diags)
        return diags.isEmpty && complete ? out : nil
    }

    /// The stage as far as it validates, and whether it validated fully; nil without a usable kind.
    private mutating func validateStage(_ name: String, _ node: ConfigNode) -> (ResolvedStage, Bool)? {
        let base = "stages." + name
        guard let rawKind = node["kind"], let kindNode = resolver.stageField(name, "kind", raw: rawKind) else { return nil }
        guard let kind = kindNode.string else {
            diags.add(kindNode.location, base + ".kind", "wrong type: got \(kindNode.value.typeDescription)", expected: "a stage kind name")
            return nil
        }
        guard let schema = catalog.schema(kind) else {
            let s = didYouMean(kind, among: catalog.kinds)
            diags.add(kindNode.location, base + ".kind", "unknown stage kind '\(kind)'",
                      expected: s == nil ? "one of " + catalog.kinds.joined(separator: ", ") : nil, suggestion: s)
            return nil
        }
        var values: [String: ConfigNode] = [:]
        var ok = true
        for (key, raw) in node.entries ?? [] where key != "kind" && !RecipeKeys.stageEngine.contains(key) {
            guard let field = schema.field(key) else {
                let s = didYouMean(key, among: schema.fields.map(\.name))
                diags.add(raw.keyLocation ?? raw.location, "\(base).\(key)", "unknown key for stage kind '\(kind)'",
                          expected: s == nil ? "one of " + schema.fields.map(\.name).joined(separator: ", ") : nil, suggestion: s)
                ok = false
                continue
            }
            guard let r = resolver.stageField(name, key, raw: raw) else { ok = false; continue }
            // An optional field may be null: absent, as far as the stage is concerned.
            if case .null = r.value, field.optional { values[key] = r; continue }
            guard let checked = check(r, field.type, "\(base).\(key)", range: field.range, from: raw.string) else { ok = false; continue }
            if let implied = field.absentMeans, checked.value == implied { continue }  // hashed as if absent
            values[key] = checked
        }
        var entries: [(key: String, value: ConfigNode)] = [("kind", ConfigNode(.string(kind), at: kindNode.location, keyAt: rawKind.keyLocation))]
        for field in schema.fields {
            if let v = values[field.name] {
                entries.append((field.name, v))
            } else if let d = field.defaultValue {
                entries.append((field.name, ConfigNode(d)))
            } else if !field.optional, node[field.name] == nil {
                diags.add(node.keyLocation ?? node.location, "\(base).\(field.name)", "missing required key '\(field.name)' for stage kind '\(kind)'",
                          expected: "\(field.type) (\(field.doc))")
                ok = false
            }
        }
        let inputs = schema.fields.flatMap { f in StageValidator.refs(values[f.name], f) }
        var stage = ResolvedStage(name: name, kind: kind, config: ConfigNode(.map(entries), at: node.location, keyAt: node.keyLocation),
                                  inputs: inputs.map { ($0.field, $0.stage) }, location: node.keyLocation ?? node.location)
        ok = assignEngine(&stage, node, schema) && ok
        return (stage, ok)
    }

    /// Sets the stage's engine (its own `engine:`, else the default where this kind runs there, else
    /// embedded) and `engine_args`, then runs that engine's check of the stage. False on a problem.
    private mutating func assignEngine(_ stage: inout ResolvedStage, _ node: ConfigNode, _ schema: StageSchema) -> Bool {
        let base = "stages.\(stage.name)"
        var ok = true
        if let raw = node["engine"] {
            guard let r = resolver.stageField(stage.name, "engine", raw: raw) else { return false }
            guard let name = r.string, catalog.engines[name] != nil else {
                let s = r.string.flatMap { didYouMean($0, among: catalog.engineNames) }
                diags.add(r.location, base + ".engine", r.string.map { "unknown engine '\($0)'" } ?? "wrong type: got \(r.value.typeDescription)",
                          expected: s == nil ? "one of " + catalog.engineNames.joined(separator: ", ") : nil, suggestion: s)
                return false
            }
            guard schema.engine(name) != nil else {
                diags.add(r.location, base + ".engine", "stage kind '\(schema.kind)' has no runner on engine '\(name)'",
                          expected: "an engine that runs '\(schema.kind)': " + schema.engines.map(\.engine).joined(separator: ", "))
                return false
            }
            stage.engine = name
            stage.engineLocation = r.location
        } else if let d = defaultEngine?.string, schema.engine(d) != nil {
            stage.engine = d
            stage.engineLocation = defaultEngine?.location
        }
        if let raw = node["engine_args"] {
            guard let r = resolver.stageField(stage.name, "engine_args", raw: raw) else { return false }
            if r.entries == nil {
                diags.add(r.location, base + ".engine_args", "wrong type: got \(r.value.typeDescription)", expected: "a map of the engine's options")
                ok = false
            } else if !stage.isDelegated {
                diags.add(raw.keyLocation ?? r.location, base + ".engine_args", "engine_args is set but the stage runs on the embedded engine",
                          expected: "an `engine:` that delegates the stage (" + schema.engines.map(\.engine).joined(separator: ", ") + ")")
                ok = false
            } else {
                stage.engineArgs = r
            }
        }
        for problem in schema.check(stage) {
            diags.add(stage.config[problem.key]?.location ?? stage.location, "\(base).\(problem.key)", problem.message)
            ok = false
        }
        for problem in schema.engine(stage.engine)?.check(stage) ?? [] {
            let at = problem.key == "engine" ? stage.engineLocation : (stage.config.at(path: problem.key)?.location ?? stage.engineLocation)
            diags.add(at ?? stage.location, "\(base).\(problem.key)", problem.message + " (engine '\(stage.engine)')")
            ok = false
        }
        return ok
    }

    /// The stage names a field holds when its type is a stage reference (or a list of them).
    static func refs(_ value: ConfigNode?, _ field: FieldSchema) -> [(field: String, stage: String, node: ConfigNode)] {
        guard let value else { return [] }
        switch field.type {
        case .stageRef: return value.string.map { [(field.name, $0, value)] } ?? []
        case .list(.stageRef):
            return (value.list ?? []).enumerated().compactMap { i, n in n.string.map { ("\(field.name)[\(i)]", $0, n) } }
        default: return []
        }
    }

    /// Checks a value against a field type; ints become doubles where a number is expected.
    private mutating func check(_ n: ConfigNode, _ type: FieldType, _ keyPath: String, range: ValueRange? = nil,
                                from template: String? = nil) -> ConfigNode? {
        // A value that came through a reference says so, since the bad value is written elsewhere.
        let origin = template.flatMap { $0.contains("${") ? " from " + ConfigValue.jsonQuote($0) : nil } ?? ""
        var out = n
        switch (type, n.value) {
        case (.any, _), (.bool, .bool), (.string, .string), (.stageRef, .string):
            return n
        case let (.int, .int(i)):
            return inRange(Double(i), range, n, keyPath) ? n : nil
        case let (.double, .double(d)):
            return inRange(d, range, n, keyPath) ? n : nil
        case let (.double, .int(i)):
            out.value = .double(Double(i))
            return inRange(Double(i), range, n, keyPath) ? out : nil
        case let (.record(fields), .map(entries)):
            // Checked key by key but kept as written: absent keys are the consumer's defaults, and a
            // value is hashed as the recipe wrote it.
            var good = true
            for (key, value) in entries {
                guard let f = fields.first(where: { $0.name == key }) else {
                    let s = didYouMean(key, among: fields.map(\.name))
                    diags.add(value.keyLocation ?? value.location, "\(keyPath).\(key)", "unknown key",
                              expected: s == nil ? "one of " + fields.map(\.name).joined(separator: ", ") : nil, suggestion: s)
                    good = false
                    continue
                }
                if case .null = value.value, f.optional || f.defaultValue != nil { continue }
                if check(value, f.type, "\(keyPath).\(key)", range: f.range) == nil { good = false }
            }
            for f in fields where f.isRequired && !entries.contains(where: { $0.key == f.name }) {
                diags.add(n.location, "\(keyPath).\(f.name)", "missing required key '\(f.name)'", expected: "\(f.type) (\(f.doc))")
                good = false
            }
            return good ? n : nil
        case let (.choice(options), .string(s)):
            if options.contains(s) { return n }
            let sug = didYouMean(s, among: options)
            diags.add(n.location, keyPath, "'\(s)'\(origin) is not an accepted value",
                      expected: sug == nil ? type.description : nil, suggestion: sug)
            return nil
        case let (.list(inner), .list(items)):
            var checked: [ConfigNode] = []
            for (i, item) in items.enumerated() {
                guard let c = check(item, inner, "\(keyPath)[\(i)]", range: range) else { return nil }
                checked.append(c)
            }
            out.value = .list(checked)
            return out
        default:
            diags.add(n.location, keyPath, "wrong type: got \(n.value.typeDescription)\(origin)", expected: type.description)
            return nil
        }
    }

    /// A number outside the field's range is reported at its own line.
    /// NaN and infinity are refused for every number field: a NaN passes every comparison, so a range
    /// alone let `.nan` through to the trainer, which refused it only when the node ran.
    private mutating func inRange(_ x: Double, _ range: ValueRange?, _ n: ConfigNode, _ keyPath: String) -> Bool {
        guard x.isFinite else {
            diags.add(n.location, keyPath, "\(n.value.canonicalJSON) is not a finite number", expected: "a finite number")
            return false
        }
        guard let range, !range.contains(x) else { return true }
        diags.add(n.location, keyPath, "\(n.value.canonicalJSON) is out of range", expected: "a number \(range)")
        return false
    }

    /// Stage-reference fields must name a stage of this recipe, of an accepted kind.
    private mutating func checkInputs(_ resolved: [ResolvedStage]) {
        let names = stages.map(\.name)
        for stage in resolved {
            guard let schema = catalog.schema(stage.kind) else { continue }
            for f in schema.fields {
                for ref in StageValidator.refs(stage.config[f.name], f) {
                    let path = "stages.\(stage.name).\(ref.field)"
                    guard names.contains(ref.stage) else {
                        diags.add(ref.node.location, path, "unknown stage '\(ref.stage)'",
                                  expected: "the name of a stage of this recipe", suggestion: didYouMean(ref.stage, among: names))
                        continue
                    }
                    guard case let .stageRef(accepts) = f.type.elementType, !accepts.isEmpty,
                          let target = resolved.first(where: { $0.name == ref.stage }),
                          let targetSchema = catalog.schema(target.kind) else { continue }
                    let decided = targetSchema.outputsOf?(target)
                    let outputs = decided?.types ?? targetSchema.outputs
                    if outputs.contains(where: accepts.contains) { continue }
                    let made = outputs.isEmpty ? "nothing another stage takes" : outputs.map(\.rawValue).joined(separator: " or ")
                    diags.add(ref.node.location, path, "stage '\(ref.stage)' (kind '\(target.kind)'\(decided.map { ": \($0.reason)" } ?? "")) outputs \(made)",
                              expected: "a stage that outputs " + accepts.map(\.rawValue).joined(separator: " or "))
                }
            }
        }
    }

    /// Reports the first cycle among stage references, following declaration order.
    private mutating func checkAcyclic(_ resolved: [ResolvedStage]) {
        let byName = Dictionary(resolved.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:]  // 1: on the current path, 2: finished
        var path: [String] = []
        func visit(_ name: String) -> (cycle: [String], edge: String)? {
            state[name] = 1
            path.append(name)
            for input in byName[name]?.inputs ?? [] {
                if state[input.stage] == 1, let start = path.firstIndex(of: input.stage) {
                    return (Array(path[start...]) + [input.stage], input.field)
                }
                if state[input.stage] == nil, let c = visit(input.stage) { return c }
            }
            path.removeLast()
            state[name] = 2
            return nil
        }
        for stage in resolved where state[stage.name] == nil {
            guard let (cycle, field) = visit(stage.name) else { continue }
            let from = cycle[cycle.count - 2]
            let loc = byName[from]?.config[field.components(separatedBy: "[").first ?? field]?.location
            diags.add(loc, "stages.\(from).\(field)", "stage graph has a cycle: " + cycle.joined(separator: " -> ") + " (each stage takes the next as input)")
            return
        }
    }
}

extension FieldType {
    /// The element type of a list, or the type itself.
    var elementType: FieldType {
        if case let .list(inner) = self { return inner }
        return self
    }
}
