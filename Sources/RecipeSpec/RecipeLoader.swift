import Foundation

/// Loads a recipe file into a `ResolvedRecipe`: extends, `--set` overrides, scale, matrix
/// expansion, references, schema validation and defaults, in that order.
///
/// Every problem is reported as a located `RecipeError`; `load` throws `RecipeErrors` holding
/// all the problems it could find (file order), never a bare `RecipeError`.
public struct RecipeLoader: Sendable {
    /// The stage kinds recipes may use.
    public var catalog: StageCatalog

    public init(catalog: StageCatalog) {
        self.catalog = catalog
    }

    /// Loads `file` (and what it extends), applying `overrides` (`a.b.c=value`, as from `--set`).
    public func load(file: String, overrides: [String] = []) throws -> ResolvedRecipe {
        try resolve(file: file, overrides: overrides, loader: ExtendsLoader())
    }

    /// Loads a recipe from text as if it were the file `file` (its `extends:` are read from disk,
    /// relative to `file`).
    public func load(yaml: String, file: String, overrides: [String] = []) throws -> ResolvedRecipe {
        try resolve(file: file, overrides: overrides, loader: ExtendsLoader(inMemory: [file: yaml]))
    }

    private func resolve(file: String, overrides: [String], loader: ExtendsLoader) throws -> ResolvedRecipe {
        var doc = try loader.load(file)
        let sets = try parseOverrides(overrides, doc: doc)
        for o in sets { doc = o.apply(to: doc) }
        doc = try applyScale(doc, overrides: sets)
        // A run narrowed on the command line (a matrix axis, an exclusion or the table changed) cannot judge
        // the recipe's claims, which name cells of the whole table: they are left out of that run instead
        // of failing it (`--set matrix.task=[math_expressions]` is a normal way to run one panel).
        if doc["claims"] != nil, sets.contains(where: { ["matrix", "exclude", "table"].contains($0.path.first ?? "") }) {
            doc = try Override.parse("claims=null").apply(to: doc)
        }

        var checker = StructureChecker(doc: doc, catalog: catalog)
        let structure = checker.check()
        var diags = checker.diags
        guard structure.expandable else {
            try diags.throwIfAny()
            throw RecipeErrors([RecipeError(location: doc.location, keyPath: "", message: "recipe cannot be expanded")])
        }
        let cells = expand(structure, doc: doc, diags: &diags)
        try diags.throwIfAny()
        var recipe = ResolvedRecipe(name: structure.name, file: file, cells: cells, table: structure.table,
                                    document: document(doc, structure))
        recipe.plots = structure.plots
        recipe.claims = structure.claims
        recipe.findingsNote = structure.findingsNote
        recipe.axes = structure.axes.map { ($0.axis, $0.values.map(\.value)) }
        recipe.scale = doc["scale"]?.string ?? "default"
        return recipe
    }

    private func parseOverrides(_ raw: [String], doc: ConfigNode) throws -> [Override] {
        var diags = Diagnostics()
        var out: [Override] = []
        for r in raw {
            do {
                let o = try Override.parse(r)
                if let e = o.validate(in: doc, catalog: catalog) { diags.add(e) } else { out.append(o) }
            } catch let e as RecipeErrors {
                e.errors.forEach { diags.add($0) }
            }
        }
        try diags.throwIfAny()
        return out
    }

    /// Merges the selected `scales:` entry, then the overrides again so the command line wins.
    private func applyScale(_ doc: ConfigNode, overrides: [Override]) throws -> ConfigNode {
        var diags = checkScales(doc["scales"])
        var out = doc
        let selected = doc["scale"] ?? ConfigNode(.string("default"))
        if let name = selected.string {
            if let entry = doc["scales"]?[name], entry.entries != nil {
                var merged = deepMerge(doc, entry.removing("scale").removing("per_cell")) ?? doc
                // A null in a scale's per_cell patch deletes its key from the cell's stage, so it must outlive this merge.
                if let patches = entry["per_cell"] {
                    merged = merged.setting("per_cell", to: deepMerge(doc["per_cell"], patches, keepNulls: true) ?? patches)
                }
                out = ScaleStages.apply(entry, to: doc, merged: merged)
                for o in overrides { out = o.apply(to: out) }
            } else if name != "default" {
                let names = doc["scales"]?.keys ?? []
                let s = didYouMean(name, among: names)
                let choices = names.isEmpty ? "'default' (the recipe declares no scales)" : "default or one of " + names.joined(separator: ", ")
                diags.add(selected.location, "scale", "unknown scale '\(name)'", expected: s == nil ? choices : nil, suggestion: s)
            }
        } else {
            diags.add(selected.location, "scale", "wrong type: got \(selected.value.typeDescription)", expected: "a scale name")
        }
        try diags.throwIfAny()
        return out
    }

    /// Every `scales:` entry must be a partial recipe of allowed keys (checked even when unused).
    private func checkScales(_ scales: ConfigNode?) -> Diagnostics {
        var diags = Diagnostics()
        guard let scales else { return diags }
        guard let entries = scales.entries else {
            diags.add(scales.location, "scales", "wrong type: got \(scales.value.typeDescription)",
                      expected: "a map from scale name to a partial recipe")
            return diags
        }
        for (name, entry) in entries {
            guard let keys = entry.entries else {
                diags.add(entry.location, "scales.\(name)", "wrong type: got \(entry.value.typeDescription)",
                          expected: "a partial recipe (a map), e.g. { vars: { steps: 2 } }")
                continue
            }
            for (k, v) in keys where !RecipeKeys.inScale.contains(k) {
                let s = didYouMean(k, among: RecipeKeys.inScale)
                diags.add(v.keyLocation ?? v.location, "scales.\(name).\(k)", "key not allowed in a scale",
                          expected: s == nil ? "one of " + RecipeKeys.inScale.joined(separator: ", ") : nil, suggestion: s)
            }
        }
        return diags
    }

    /// One `RecipeCell` per matrix point; errors of all cells are collected (repeats dropped).
    private func expand(_ s: RecipeStructure, doc: ConfigNode, diags: inout Diagnostics) -> [RecipeCell] {
        let points = MatrixExpander.cells(axes: s.axes, exclude: s.exclude)
        if points.isEmpty {
            diags.add(doc["exclude"]?.location, "exclude", "exclude removes every cell of the matrix")
            return []
        }
        var cells: [RecipeCell] = []
        for point in points {
            let stages = cellStages(s, point: point, diags: &diags)
            var scope = ReferenceScope(vars: s.vars, axes: s.axes.map(\.axis), stages: stages)
            scope.cell = Dictionary(point.map { ($0.axis, $0.value) }, uniquingKeysWith: { a, _ in a })
            let resolver = ReferenceResolver(scope: scope, catalog: catalog)
            // A matrix axis named `engine` sets the recipe-level engine of its cells (a parity table for free).
            let axisEngine = point.first { $0.axis == "engine" }.map { p in
                s.axes.first { $0.axis == "engine" }?.values.first { $0.value == p.value } ?? ConfigNode(p.value)
            }
            var validator = StageValidator(catalog: catalog, resolver: resolver, stages: stages, defaultEngine: axisEngine ?? s.engine)
            if let stages = validator.validate() {
                cells.append(RecipeCell(matrix: point, stages: stages))
            }
            diags.add(contentsOf: validator.diags)
        }
        return cells
    }

    /// The recipe's stages with every matching `per_cell` entry merged in (in entry order).
    private func cellStages(_ s: RecipeStructure, point: MatrixExpander.Cell,
                            diags: inout Diagnostics) -> [(name: String, node: ConfigNode)] {
        var stages = s.stages
        for entry in s.perCell where MatrixExpander.matches(entry.rule, point) {
            for (name, over) in entry.stages {
                // `drop` (not null: a null is deleted when recipes merge) removes the stage.
                if over.string == "drop" {
                    stages.removeAll { $0.name == name }
                } else if let k = stages.firstIndex(where: { $0.name == name }) {
                    if let merged = deepMerge(stages[k].node, over) { stages[k].node = merged } else { stages.remove(at: k) }
                } else if over["kind"] == nil {
                    diags.add(over.keyLocation ?? over.location, "per_cell.\(entry.name).stages.\(name)",
                              "stage '\(name)' is not declared in 'stages' and has no 'kind'",
                              expected: "a field map for a declared stage, or a new stage with { kind: ..., ... }",
                              suggestion: didYouMean(name, among: stages.map(\.name)))
                } else {
                    stages.append((name, over))
                }
            }
        }
        return stages
    }

    /// The merged recipe with vars resolved (cell-dependent vars kept as written), `extends`
    /// and `scales` consumed and the table normalised; stages stay templates.
    private func document(_ doc: ConfigNode, _ s: RecipeStructure) -> ConfigNode {
        var out = doc.removing("scales").removing("extends")
        var scope = ReferenceScope(vars: s.vars)
        scope.deferCellReferences = true
        if s.vars != nil, let r = ReferenceResolver(scope: scope, catalog: catalog).resolveVars() {
            out = out.setting("vars", to: r)
        }
        out = out.setting("scale", to: ConfigNode(.string(doc["scale"]?.string ?? "default")))
        if !s.axes.isEmpty {
            out = out.setting("matrix", to: ConfigNode(.map(s.axes.map { ($0.axis, ConfigNode(.list($0.values))) })))
        }
        return out
    }
}

/// What a scale does to stages beyond the merge rule: a stage entry that says `drop` removes the stage (and the
/// `per_cell` patches that name it), and one naming another `kind` replaces the stage whole instead of merging
/// into it (the tiny `sft` becoming the paper's `hf_model`), in `stages:` and in `per_cell` entries alike.
enum ScaleStages {
    static func apply(_ scale: ConfigNode, to base: ConfigNode, merged: ConfigNode) -> ConfigNode {
        var out = merged
        let dropped = (scale["stages"]?.entries ?? []).filter { $0.value.string == "drop" }.map(\.key)
        if let stages = out["stages"] {
            out = out.setting("stages", to: replaced(stages, base: base["stages"], scale: scale["stages"], dropping: dropped))
        }
        if let perCell = out["per_cell"], let entries = perCell.entries {
            var patched = perCell
            for (name, entry) in entries {
                guard let stages = entry["stages"] else { continue }
                let fixed = replaced(stages, base: base["per_cell"]?[name]?["stages"], scale: scale["per_cell"]?[name]?["stages"], dropping: dropped)
                patched = patched.setting(name, to: entry.setting("stages", to: fixed))
            }
            out = out.setting("per_cell", to: patched)
        }
        return out
    }

    /// `merged` (a stages map) with the scale's kind changes put in whole and the dropped stages removed.
    private static func replaced(_ merged: ConfigNode, base: ConfigNode?, scale: ConfigNode?, dropping dropped: [String]) -> ConfigNode {
        var out = merged
        for (name, over) in scale?.entries ?? [] {
            guard let kind = over["kind"]?.string, let old = base?[name]?["kind"]?.string, kind != old else { continue }
            out = out.setting(name, to: over)
        }
        for name in dropped { out = out.removing(name) }
        return out
    }
}
