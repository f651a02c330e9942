/// Writes resolved recipes as YAML for `preflab resolve`.
public enum RecipeRenderer {
    /// One YAML document (`---`) per matrix cell, fully resolved, in a stable key order:
    /// top level `name, description, scale, matrix, vars, stages, table, plots`; stages in declaration
    /// order with `kind` first and then their schema's field order (defaults filled); every
    /// other map sorted by key.
    public static func yaml(_ r: ResolvedRecipe) -> String {
        var out = ""
        for (i, cell) in r.cells.enumerated() {
            out += "---\n# cell \(i + 1) of \(r.cells.count): \(cell.label)\n"
            out += cellDocument(r, cell).map { $0 + "\n" }.joined()
        }
        return out
    }

    /// The lines of one cell's document.
    static func cellDocument(_ r: ResolvedRecipe, _ cell: RecipeCell) -> [String] {
        var lines = entry("name", ConfigNode(.string(r.name)), indent: 0, sorted: true)
        if let d = r.document["description"] { lines += entry("description", d, indent: 0, sorted: true) }
        lines += entry("scale", ConfigNode(.string(r.scale)), indent: 0, sorted: true)
        if !cell.matrix.isEmpty {
            lines += entry("matrix", ConfigNode(.map(cell.matrix.map { ($0.axis, ConfigNode($0.value)) })), indent: 0, sorted: true)
        }
        if let v = r.document["vars"] { lines += entry("vars", v, indent: 0, sorted: true) }
        lines.append("stages:")
        for stage in cell.stages {
            lines += entry(stage.name, rendered(stage), indent: 2, sorted: false)
        }
        if let t = r.table { lines += entry("table", tableNode(t), indent: 0, sorted: true) }
        if !r.plots.isEmpty { lines += entry("plots", plotsNode(r.plots), indent: 0, sorted: false) }
        return lines
    }

    /// The stage's config, with `engine` (and `engine_args`) after `kind` when a delegated engine runs it.
    static func rendered(_ stage: ResolvedStage) -> ConfigNode {
        guard stage.isDelegated, var entries = stage.config.entries else { return stage.config }
        var extra: [(key: String, value: ConfigNode)] = [("engine", ConfigNode(.string(stage.engine)))]
        if let args = stage.engineArgs { extra.append(("engine_args", args)) }
        entries.insert(contentsOf: extra, at: min(1, entries.count))
        return ConfigNode(.map(entries), at: stage.config.location)
    }

    static func tableNode(_ t: TableSpec) -> ConfigNode {
        func strings(_ xs: [String]) -> ConfigNode { ConfigNode(.list(xs.map { ConfigNode(.string($0)) })) }
        var entries: [(key: String, value: ConfigNode)] = [("rows", strings(t.rows)), ("columns", strings(t.columns)),
                                                           ("value", ConfigNode(.string(t.value)))]
        if let a = t.aggregate { entries.append(("aggregate", ConfigNode(.string(a)))) }
        if let p = t.paper { entries.append(("paper", ConfigNode(.string(p)))) }
        return ConfigNode(.map(entries))
    }

    /// The `plots:` map, plots in declaration order (`entry` prints the keys of each sorted).
    static func plotsNode(_ plots: [(name: String, spec: PlotSpec)]) -> ConfigNode {
        func strings(_ xs: [String]) -> ConfigNode { ConfigNode(.list(xs.map { ConfigNode(.string($0)) })) }
        return ConfigNode(.map(plots.map { name, p in
            var entries: [(key: String, value: ConfigNode)] = [("x", ConfigNode(.string(p.x)))]
            if let value = p.value {
                entries.append(("value", ConfigNode(.string(value))))
            } else {
                entries += [("stage", ConfigNode(.string(p.stage))), ("y", strings(p.y))]
            }
            if !p.filter.isEmpty {
                entries.append(("where", ConfigNode(.map(p.filter.map { c in
                    (c.axis, c.values.count == 1 ? ConfigNode(.string(c.values[0])) : strings(c.values))
                }))))
            }
            if !p.lines.isEmpty { entries.append(("lines", strings(p.lines))) }
            if !p.panels.isEmpty { entries.append(("panels", strings(p.panels))) }
            let optional = [("aggregate", p.aggregate), ("title", p.title), ("x_label", p.xLabel), ("y_label", p.yLabel)]
            for case let (key, value?) in optional { entries.append((key, ConfigNode(.string(value)))) }
            return (name, ConfigNode(.map(entries)))
        }))
    }

    /// `key: value` lines; nested maps and lists of collections go on following lines.
    static func entry(_ key: String, _ node: ConfigNode, indent: Int, sorted: Bool) -> [String] {
        let pad = String(repeating: " ", count: indent)
        let k = ScalarText.yaml(.string(key))
        if let inline = inline(node.value) { return ["\(pad)\(k): \(inline)"] }
        return ["\(pad)\(k):"] + body(node.value, indent: indent + 2, sorted: sorted)
    }

    /// The value on one line, when it is a scalar, an empty collection or a list of scalars.
    static func inline(_ v: ConfigValue) -> String? {
        switch v {
        case let .list(items) where items.allSatisfy({ !$0.value.isCollection }):
            return "[" + items.map { ScalarText.yaml($0.value) }.joined(separator: ", ") + "]"
        case let .map(entries) where entries.isEmpty: return "{}"
        case .list, .map: return nil
        default: return ScalarText.yaml(v)
        }
    }

    /// The lines of a map or list body at `indent`.
    static func body(_ v: ConfigValue, indent: Int, sorted: Bool) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch v {
        case let .map(entries):
            let ordered = sorted ? entries.sorted { $0.key < $1.key } : entries
            return ordered.flatMap { entry($0.key, $0.value, indent: indent, sorted: true) }
        case let .list(items):
            return items.flatMap { item -> [String] in
                if let inline = inline(item.value) { return ["\(pad)- \(inline)"] }
                var lines = body(item.value, indent: indent + 2, sorted: true)
                if !lines.isEmpty {
                    lines[0] = pad + "- " + lines[0].dropFirst(indent + 2)
                }
                return lines
            }
        default:
            return [pad + ScalarText.yaml(v)]
        }
    }
}
