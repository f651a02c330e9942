/// What `${...}` references can see from where they are written.
struct ReferenceScope {
    /// The merged `vars:` map, unresolved.
    var vars: ConfigNode?
    /// Matrix axis names in order (for suggestions).
    var axes: [String] = []
    /// This cell's axis values; nil outside a cell (vars, matrix, exclude, table).
    var cell: [String: ConfigValue]?
    /// The stages, unresolved, in declaration order (only inside a cell).
    var stages: [(name: String, node: ConfigNode)] = []
    /// Outside a cell, leave strings that refer to `matrix` or `stages` as written (a var may
    /// depend on the cell; it is resolved again inside each cell).
    var deferCellReferences = false
}

/// Substitutes references, memoising each resolved key and reporting cycles among them.
final class ReferenceResolver {
    private let scope: ReferenceScope
    private let catalog: StageCatalog
    private(set) var diags = Diagnostics()
    private var memo: [String: ConfigNode] = [:]
    private var failed: Set<String> = []
    /// Keys being resolved right now, outermost first; a key met again closes a cycle.
    private var stack: [String] = []

    init(scope: ReferenceScope, catalog: StageCatalog) {
        self.scope = scope
        self.catalog = catalog
    }

    /// `node` with every reference substituted; nil when a reference failed (error recorded).
    func resolve(_ node: ConfigNode, keyPath: String) -> ConfigNode? {
        switch node.value {
        case let .string(s) where s.contains("${"):
            return resolveString(s, node: node, keyPath: keyPath)
        case let .list(items):
            var out: [ConfigNode] = []
            var ok = true
            for (i, item) in items.enumerated() {
                if let r = resolve(item, keyPath: "\(keyPath)[\(i)]") { out.append(r) } else { ok = false }
            }
            return ok ? ConfigNode(.list(out), at: node.location, keyAt: node.keyLocation) : nil
        case let .map(entries):
            var out: [(key: String, value: ConfigNode)] = []
            var ok = true
            for (k, v) in entries {
                if let r = resolve(v, keyPath: keyPath + "." + k) { out.append((k, r)) } else { ok = false }
            }
            return ok ? ConfigNode(.map(out), at: node.location, keyAt: node.keyLocation) : nil
        default:
            return node
        }
    }

    /// Every var resolved, each through its own key so cycles are reported from their start.
    func resolveVars() -> ConfigNode? {
        guard let vars = scope.vars, let entries = vars.entries else { return scope.vars }
        var out: [(key: String, value: ConfigNode)] = []
        var ok = true
        for (k, v) in entries {
            if let r = resolveKey("vars." + k, raw: v, site: v, sitePath: "vars." + k) { out.append((k, r)) } else { ok = false }
        }
        return ok ? ConfigNode(.map(out), at: vars.location, keyAt: vars.keyLocation) : nil
    }

    /// The resolved value of `stages.NAME.FIELD` as written (no default), memoised.
    func stageField(_ stage: String, _ field: String, raw: ConfigNode) -> ConfigNode? {
        resolveKey("stages.\(stage).\(field)", raw: raw, site: raw, sitePath: "stages.\(stage).\(field)")
    }

    private func resolveString(_ s: String, node: ConfigNode, keyPath: String) -> ConfigNode? {
        let parts: [TemplatePart]
        switch Template.parse(s) {
        case let .success(p): parts = p
        case let .failure(e):
            diags.add(node.location, keyPath, e.message, expected: e.expected, suggestion: e.suggestion)
            return nil
        }
        if scope.deferCellReferences, parts.contains(where: { if case let .ref(p) = $0 { return p[0] != "vars" }; return false }) {
            return node
        }
        if parts.count == 1, case let .ref(path) = parts[0] {
            guard let v = lookup(path, site: node, keyPath: keyPath) else { return nil }
            return ConfigNode(v.value, at: node.location, keyAt: node.keyLocation)
        }
        var text = ""
        for part in parts {
            switch part {
            case let .text(t): text += t
            case let .ref(path):
                guard let v = lookup(path, site: node, keyPath: keyPath) else { return nil }
                guard let piece = ScalarText.interpolated(v.value) else {
                    diags.add(node.location, keyPath,
                              "cannot insert \(v.value.typeDescription) from '${\(path.joined(separator: "."))}' into a longer string",
                              expected: "a string, number or bool (or make the string exactly one reference)")
                    return nil
                }
                text += piece
            }
        }
        return ConfigNode(.string(text), at: node.location, keyAt: node.keyLocation)
    }

    private func lookup(_ path: [String], site: ConfigNode, keyPath: String) -> ConfigNode? {
        switch path[0] {
        case "matrix": return lookupMatrix(path[1], site: site, keyPath: keyPath)
        case "vars": return lookupVar(path, site: site, keyPath: keyPath)
        default: return lookupStage(path, site: site, keyPath: keyPath)
        }
    }

    private func lookupMatrix(_ axis: String, site: ConfigNode, keyPath: String) -> ConfigNode? {
        guard let cell = scope.cell else {
            diags.add(site.location, keyPath, "'${matrix.\(axis)}' is only available inside stages and vars",
                      expected: "a value or a ${vars...} reference here")
            return nil
        }
        guard let v = cell[axis] else {
            let s = didYouMean(axis, among: scope.axes).map { "matrix." + $0 }
            diags.add(site.location, keyPath, "unknown matrix axis '\(axis)' in '${matrix.\(axis)}'",
                      expected: s == nil ? axesExpectation : nil, suggestion: s)
            return nil
        }
        return ConfigNode(v, at: site.location)
    }

    private var axesExpectation: String {
        scope.axes.isEmpty ? "no matrix axes are declared" : "one of " + scope.axes.joined(separator: ", ")
    }

    private func lookupVar(_ path: [String], site: ConfigNode, keyPath: String) -> ConfigNode? {
        guard var node = scope.vars else {
            diags.add(site.location, keyPath, "unknown variable '\(path.joined(separator: "."))'",
                      expected: "a key under 'vars:' (this recipe declares none)")
            return nil
        }
        var key = "vars"
        for comp in path.dropFirst() {
            if case let .string(s) = node.value, s.contains("${") {
                guard let r = resolveKey(key, raw: node, site: site, sitePath: keyPath) else { return nil }
                node = r
            }
            if let child = node[comp] {
                node = child
            } else if let items = node.list, let i = Int(comp), items.indices.contains(i) {
                node = items[i]
            } else {
                let s = didYouMean(comp, among: node.keys).map { key + "." + $0 }
                diags.add(site.location, keyPath, "unknown variable '\(key).\(comp)'",
                          expected: s == nil ? (node.keys.isEmpty ? "a declared variable" : "one of " + node.keys.map { key + "." + $0 }.joined(separator: ", ")) : nil,
                          suggestion: s)
                return nil
            }
            key += "." + comp
        }
        return resolveKey(key, raw: node, site: site, sitePath: keyPath)
    }

    private func lookupStage(_ path: [String], site: ConfigNode, keyPath: String) -> ConfigNode? {
        let name = path[1], field = path[2], ref = "${\(path.joined(separator: "."))}"
        guard scope.cell != nil else {
            diags.add(site.location, keyPath, "'\(ref)' is only available inside stages and vars")
            return nil
        }
        guard let stage = scope.stages.first(where: { $0.name == name })?.node else {
            diags.add(site.location, keyPath, "unknown stage '\(name)' in '\(ref)'",
                      suggestion: didYouMean(name, among: scope.stages.map(\.name)).map { "stages." + $0 })
            return nil
        }
        var value: ConfigNode
        if let raw = stage[field] {
            guard let r = resolveKey("stages.\(name).\(field)", raw: raw, site: site, sitePath: keyPath) else { return nil }
            value = r
        } else if let d = defaultValue(stage: name, node: stage, field: field, site: site, keyPath: keyPath) {
            value = d
        } else {
            return nil
        }
        for comp in path.dropFirst(3) {
            if let child = value[comp] { value = child }
            else if let items = value.list, let i = Int(comp), items.indices.contains(i) { value = items[i] }
            else {
                diags.add(site.location, keyPath, "'\(ref)': no key '\(comp)' in \(value.value.typeDescription)")
                return nil
            }
        }
        return value
    }

    /// The schema default of a field the stage does not write.
    private func defaultValue(stage name: String, node: ConfigNode, field: String,
                              site: ConfigNode, keyPath: String) -> ConfigNode? {
        guard let rawKind = node["kind"],
              let kind = resolveKey("stages.\(name).kind", raw: rawKind, site: site, sitePath: keyPath)?.string,
              let schema = catalog.schema(kind) else {
            return nil  // the stage's own validation reports a missing or unknown kind
        }
        if let f = schema.field(field), let d = f.defaultValue { return ConfigNode(d) }
        let fields = schema.fields.map(\.name)
        let message = schema.field(field) == nil
            ? "stage '\(name)' (kind '\(kind)') has no field '\(field)'"
            : "stage '\(name)' does not set '\(field)', which has no default"
        diags.add(site.location, keyPath, message,
                  suggestion: didYouMean(field, among: fields).map { "stages.\(name)." + $0 })
        return nil
    }

    private func resolveKey(_ key: String, raw: ConfigNode, site: ConfigNode, sitePath: String) -> ConfigNode? {
        if let m = memo[key] { return m }
        if failed.contains(key) { return nil }
        if let start = stack.firstIndex(of: key) {
            let cycle = stack[start...] + [key]
            diags.add(site.location, sitePath, "reference cycle: " + cycle.joined(separator: " -> "))
            failed.formUnion(cycle)
            return nil
        }
        stack.append(key)
        let r = resolve(raw, keyPath: key)
        stack.removeLast()
        if let r, !failed.contains(key) { memo[key] = r } else { failed.insert(key); return nil }
        return r
    }
}
