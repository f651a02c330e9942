import Foundation

/// The top-level parts of a merged recipe, checked for shape (not yet expanded per cell).
struct RecipeStructure {
    var name: String = ""
    /// `vars:` as written (resolved again inside each cell).
    var vars: ConfigNode?
    /// Axes in order, values resolved.
    var axes: [(axis: String, values: [ConfigNode])] = []
    /// Each exclude entry: axis → the values it drops.
    var exclude: [[(axis: String, values: [ConfigNode])]] = []
    /// Stages as written, in declaration order.
    var stages: [(name: String, node: ConfigNode)] = []
    /// `per_cell:` entries: the cells they match (like an exclude rule) and the stages they merge in.
    var perCell: [(name: String, rule: [(axis: String, values: [ConfigNode])], stages: [(name: String, node: ConfigNode)])] = []
    var table: TableSpec?
    /// `plots:` entries in declaration order.
    var plots: [(name: String, spec: PlotSpec)] = []
    /// `claims:` entries in declaration order (ClaimCheck.swift).
    var claims: [ClaimSpec] = []
    /// `findings_note:`, the recipe's context printed in findings.md under its verdicts.
    var findingsNote: String?
    /// The recipe-level `engine:` (resolved), the default of every stage whose kind runs there.
    var engine: ConfigNode?
    /// False when a problem makes per-cell expansion meaningless (stages or matrix malformed).
    var expandable = true
}

/// Checks the top level of a merged recipe: keys, types, matrix, exclude, stage shapes, table, plots.
struct StructureChecker {
    let doc: ConfigNode
    let catalog: StageCatalog
    var diags = Diagnostics()
    var out = RecipeStructure()
    /// Resolves `${vars...}` in the top-level parts (matrix, exclude, table, plots, name).
    let resolver: ReferenceResolver

    init(doc: ConfigNode, catalog: StageCatalog) {
        self.doc = doc
        self.catalog = catalog
        self.resolver = ReferenceResolver(scope: ReferenceScope(vars: doc["vars"]), catalog: catalog)
    }

    mutating func check() -> RecipeStructure {
        for (key, node) in doc.entries ?? [] where !RecipeKeys.topLevel.contains(key) {
            unknownKey(key, node, keyPath: key, among: RecipeKeys.topLevel, what: "unknown top-level key")
        }
        checkName()
        if let d = doc["description"], d.string == nil { wrongType(d, "description", "string") }
        if let n = doc["findings_note"] {
            if let s = n.string { out.findingsNote = s } else { wrongType(n, "findings_note", "a string: context for findings.md, not a verdict") }
        }
        if let v = doc["vars"], v.entries == nil { wrongType(v, "vars", "a map of named values") }
        out.vars = doc["vars"]?.entries == nil ? nil : doc["vars"]
        if let vars = out.vars {
            // Cell-dependent vars are checked again in each cell; this catches broken unused ones.
            var scope = ReferenceScope(vars: vars)
            scope.deferCellReferences = true
            let varsResolver = ReferenceResolver(scope: scope, catalog: catalog)
            _ = varsResolver.resolveVars()
            diags.add(contentsOf: varsResolver.diags)
        }
        checkEngine()
        checkMatrix()
        checkExclude()
        checkStages()
        checkPerCell()
        checkTable()
        checkPlots()
        checkClaims()
        diags.add(contentsOf: resolver.diags)
        return out
    }

    /// `engine:` names a known engine (which stages it runs is decided per stage).
    private mutating func checkEngine() {
        guard let raw = doc["engine"], let r = resolved(raw, "engine") else { return }
        guard let name = r.string else { return wrongType(r, "engine", "an engine name: " + catalog.engineNames.joined(separator: ", ")) }
        guard catalog.engines[name] != nil else {
            let s = didYouMean(name, among: catalog.engineNames)
            diags.add(r.location, "engine", "unknown engine '\(name)'",
                      expected: s == nil ? "one of " + catalog.engineNames.joined(separator: ", ") : nil, suggestion: s)
            return
        }
        out.engine = r
    }

    /// Stage and axis names: used inside `${...}`, labels and folder names.
    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "_" || $0 == "-" }
    }

    mutating func unknownKey(_ key: String, _ node: ConfigNode, keyPath: String, among: [String], what: String) {
        let s = didYouMean(key, among: among)
        diags.add(node.keyLocation ?? node.location, keyPath, what,
                  expected: s == nil ? "one of " + among.joined(separator: ", ") : nil, suggestion: s)
    }

    mutating func wrongType(_ node: ConfigNode, _ keyPath: String, _ expected: String) {
        diags.add(node.location, keyPath, "wrong type: got \(node.value.typeDescription)", expected: expected)
    }

    private mutating func resolved(_ node: ConfigNode, _ keyPath: String) -> ConfigNode? {
        resolver.resolve(node, keyPath: keyPath)
    }

    /// A recipe name is a relative path below `--results`: it must not escape it or hide files.
    static func isSafeName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        return name.utf8.count <= 200 && parts.allSatisfy { part in
            !part.isEmpty && !part.hasPrefix(".") && part.allSatisfy { allowed.contains($0) }
        }
    }

    private mutating func checkName() {
        guard let n = doc["name"] else {
            diags.add(doc.location, "name", "missing required key 'name'",
                      expected: "a name such as 'd2po/table2' (it names Results/<name>/)")
            return
        }
        guard let r = resolved(n, "name") else { return }
        guard let s = r.string, !s.isEmpty else { return wrongType(r, "name", "a non-empty string") }
        guard Self.isSafeName(s) || s.contains("${") else {
            return diags.add(r.location, "name", "name '\(s)' cannot be used as a folder under Results/",
                             expected: "parts of letters, digits, '_', '-' and '.' joined by '/', none of them '.' or '..'")
        }
        out.name = s
    }

    private mutating func checkMatrix() {
        guard let m = doc["matrix"] else { return }
        guard let entries = m.entries else {
            out.expandable = false
            return wrongType(m, "matrix", "a map from axis name to a list of values")
        }
        for (axis, raw) in entries {
            let path = "matrix." + axis
            if !StructureChecker.isName(axis) {
                diags.add(raw.keyLocation ?? raw.location, path, "invalid matrix axis name '\(axis)'",
                          expected: "letters, digits, '_' and '-'")
            }
            guard let node = resolved(raw, path) else { out.expandable = false; continue }
            guard let items = node.list else {
                out.expandable = false
                wrongType(node, path, "a list of values")
                continue
            }
            if items.isEmpty {
                out.expandable = false
                diags.add(node.location, path, "empty matrix axis", expected: "a non-empty list of values")
                continue
            }
            var seen: [ConfigValue] = []
            for (i, item) in items.enumerated() {
                if item.value.isCollection || item.value.isNull {
                    out.expandable = false
                    wrongType(item, "\(path)[\(i)]", "a string, number or bool")
                } else if seen.contains(item.value) {
                    out.expandable = false
                    diags.add(item.location, "\(path)[\(i)]", "duplicate value \(ScalarText.yaml(item.value)) in matrix axis")
                }
                seen.append(item.value)
            }
            out.axes.append((axis, items))
        }
    }

    private mutating func checkExclude() {
        guard let ex = doc["exclude"] else { return }
        guard let node = resolved(ex, "exclude") else { out.expandable = false; return }
        guard let entries = node.list else {
            out.expandable = false
            return wrongType(node, "exclude", "a list of maps from axis to value")
        }
        for (i, entry) in entries.enumerated() {
            let path = "exclude[\(i)]"
            guard entry.entries != nil else {
                out.expandable = false
                wrongType(entry, path, "a map from axis to value, e.g. { algorithm: ppo }")
                continue
            }
            out.exclude.append(cellRule(entry, path: path, what: "exclude"))
        }
    }

    /// A partial cell (axis → one value or a list of values), checked against the matrix. With
    /// `strict` false a value the axis lacks only errs when it looks like a typo of one it has
    /// (a base recipe's `per_cell` may name a task its child's matrix leaves out).
    private mutating func cellRule(_ entry: ConfigNode, path: String, what: String,
                                   strict: Bool = true) -> [(axis: String, values: [ConfigNode])] {
        let axes = out.axes.map(\.axis)
        var rule: [(axis: String, values: [ConfigNode])] = []
        for (axis, v) in entry.entries ?? [] {
            guard let known = out.axes.first(where: { $0.axis == axis }) else {
                out.expandable = false
                unknownKey(axis, v, keyPath: "\(path).\(axis)", among: axes, what: "\(what) names an unknown matrix axis")
                continue
            }
            let values = v.list ?? [v]
            for value in values where !known.values.contains(where: { $0.value == value.value }) {
                let names = known.values.map { ScalarText.interpolated($0.value) ?? "" }
                let s = ScalarText.interpolated(value.value).flatMap { didYouMean($0, among: names) }
                guard strict || s != nil else { continue }
                out.expandable = false
                diags.add(value.location, "\(path).\(axis)",
                          "\(ScalarText.yaml(value.value)) is not a value of matrix axis '\(axis)'",
                          expected: s == nil ? "one of " + names.joined(separator: ", ") : nil, suggestion: s)
            }
            rule.append((axis, values))
        }
        return rule
    }

    /// `per_cell:` — named entries `{ when: PARTIAL_CELL, stages: PARTIAL_STAGES }`: the stages
    /// are deep-merged into every cell `when` matches (new stages need a `kind`). A map, so that
    /// a recipe extending another adds to an entry of the same name.
    private mutating func checkPerCell() {
        guard let node = doc["per_cell"] else { return }
        guard let entries = node.entries else {
            out.expandable = false
            return wrongType(node, "per_cell", "a map from entry name to { when: { AXIS: VALUE }, stages: { ... } }")
        }
        for (name, entry) in entries {
            let path = "per_cell.\(name)"
            guard let keys = entry.entries else {
                out.expandable = false
                wrongType(entry, path, "a map { when: { AXIS: VALUE }, stages: { ... } }")
                continue
            }
            for (k, v) in keys where !["when", "stages"].contains(k) {
                out.expandable = false
                unknownKey(k, v, keyPath: "\(path).\(k)", among: ["when", "stages"], what: "unknown key in a per_cell entry")
            }
            // Only `when` is resolved here: the stages may use ${matrix...}, resolved per cell.
            guard let raw = entry["when"], let when = resolved(raw, "\(path).when"), !(when.entries ?? []).isEmpty else {
                out.expandable = false
                diags.add(entry["when"]?.location ?? entry.location, "\(path).when", "missing or empty 'when'",
                          expected: "a map from matrix axis to value, e.g. { task: math_expressions }")
                continue
            }
            guard let stages = entry["stages"]?.entries else {
                out.expandable = false
                diags.add(entry["stages"]?.location ?? entry.location, "\(path).stages", "missing or non-map 'stages'",
                          expected: "a map from stage name to the fields to set in matching cells")
                continue
            }
            for (stage, fields) in stages where (fields.entries == nil && fields.string != "drop") || !StructureChecker.isName(stage) {
                out.expandable = false
                diags.add(fields.keyLocation ?? fields.location, "\(path).stages.\(stage)", "a per_cell stage must be a map or 'drop'",
                          expected: "{ FIELD: VALUE, ... } (and 'kind' for a stage the recipe does not declare), or 'drop' to remove the stage")
            }
            let rule = cellRule(when, path: "\(path).when", what: "per_cell", strict: false)
            out.perCell.append((name, rule, stages.map { ($0.key, $0.value) }))
        }
    }

    private mutating func checkStages() {
        guard let st = doc["stages"] else {
            out.expandable = false
            return diags.add(doc.location, "stages", "missing required key 'stages'",
                             expected: "a map from stage name to { kind: ..., ... }")
        }
        guard let entries = st.entries, !entries.isEmpty else {
            out.expandable = false
            return wrongType(st, "stages", "a non-empty map from stage name to { kind: ..., ... }")
        }
        for (name, node) in entries {
            if !StructureChecker.isName(name) {
                diags.add(node.keyLocation ?? node.location, "stages." + name, "invalid stage name '\(name)'",
                          expected: "letters, digits, '_' and '-' (the name is used in ${stages.NAME.FIELD} and file names)")
            }
            guard let fields = node.entries else {
                out.expandable = false
                diags.add(node.location, "stages." + name, "a stage must be a map with a 'kind' key; got \(node.value.typeDescription)",
                          expected: "{ kind: <stage kind>, ... }")
                continue
            }
            if !fields.contains(where: { $0.key == "kind" }) {
                let kinds = catalog.kinds
                diags.add(node.keyLocation ?? node.location, "stages." + name, "missing required key 'kind'",
                          expected: kinds.isEmpty ? "a registered stage kind" : "one of " + kinds.joined(separator: ", "))
            }
            out.stages.append((name, node))
        }
    }
}
