extension StructureChecker {
    /// Checks `table:` against the matrix axes and stage names.
    mutating func checkTable() {
        guard let raw = doc["table"] else { return }
        guard let t = resolver.resolve(raw, keyPath: "table") else { return }
        guard let entries = t.entries else { return wrongType(t, "table", "a map with rows, columns, value") }
        for (key, node) in entries where !RecipeKeys.table.contains(key) {
            unknownKey(key, node, keyPath: "table." + key, among: RecipeKeys.table, what: "unknown key in table")
        }
        let rows = axisList(t["rows"], "table.rows")
        let columns = axisList(t["columns"], "table.columns")
        if t["rows"] == nil {
            diags.add(t.location, "table.rows", "missing required key 'rows'", expected: "a matrix axis or a list of axes")
        }
        var value = ""
        if let v = t["value"] {
            if let s = v.string { value = s; checkValue(s, v) } else { wrongType(v, "table.value", "'stage.metric', e.g. eval.mean") }
        } else {
            diags.add(t.location, "table.value", "missing required key 'value'", expected: "'stage.metric', e.g. eval.mean")
        }
        var aggregate: String?
        if let a = t["aggregate"] { aggregate = axisList(a, "table.aggregate").first }
        var paper: String?
        if let p = t["paper"] {
            if let s = p.string {
                let from = p.location?.file ?? ""
                paper = from.hasPrefix("<") ? s : RecipePath.resolve(s, from: from)
            } else { wrongType(p, "table.paper", "a path to a CSV, relative to the recipe file") }
        }
        out.table = TableSpec(rows: rows, columns: columns, value: value, aggregate: aggregate, paper: paper)
    }

    /// The axis names in `node` (one name or a list), each checked against the matrix.
    mutating func axisList(_ node: ConfigNode?, _ keyPath: String) -> [String] {
        guard let node else { return [] }
        let items = node.list ?? [node]
        var names: [String] = []
        let axes = out.axes.map(\.axis)
        for (i, item) in items.enumerated() {
            let path = node.list == nil ? keyPath : "\(keyPath)[\(i)]"
            guard let s = item.string else { wrongType(item, path, "a matrix axis name"); continue }
            if !axes.contains(s) {
                let sug = didYouMean(s, among: axes)
                diags.add(item.location, path, "'\(s)' is not a matrix axis",
                          expected: sug == nil ? (axes.isEmpty ? "a matrix axis (the recipe has no matrix)" : "one of " + axes.joined(separator: ", ")) : nil,
                          suggestion: sug)
            }
            names.append(s)
        }
        return names
    }

    /// `stage.metric` with a known stage (tables and value plots; `keyPath` names the key). A
    /// template is checked in the cells `keep` accepts: a plot's `where:` may skip the others.
    mutating func checkValue(_ s: String, _ node: ConfigNode, keyPath: String = "table.value",
                             keep: (MatrixExpander.Cell) -> Bool = { _ in true }) {
        if s.contains("{") { return checkValueTemplate(s, node, keyPath, keep) }
        let parts = s.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return diags.add(node.location, keyPath, "'\(s)' does not name a stage metric", expected: "'stage.metric', e.g. eval.mean")
        }
        let names = out.stages.map(\.name) + out.perCell.flatMap { $0.stages.map(\.name) }
        if !names.contains(parts[0]) {
            diags.add(node.location, keyPath, "unknown stage '\(parts[0])'",
                      suggestion: didYouMean(parts[0], among: names).map { $0 + "." + parts[1] })
        }
    }

    /// A value with `{axis}` placeholders must give `stage.metric` with a known stage in every cell.
    private mutating func checkValueTemplate(_ s: String, _ node: ConfigNode, _ keyPath: String,
                                             _ keep: (MatrixExpander.Cell) -> Bool) {
        let axes = out.axes.map(\.axis)
        for hole in AxisTemplate.placeholders(s) where !axes.contains(hole) {
            return diags.add(node.location, keyPath, "'{\(hole)}' is not a matrix axis",
                             expected: "'{axis}' with one of " + axes.joined(separator: ", "),
                             suggestion: didYouMean(hole, among: axes).map { s.replacingOccurrences(of: "{\(hole)}", with: "{\($0)}") })
        }
        guard out.expandable else { return }
        let names = out.stages.map(\.name) + out.perCell.flatMap { $0.stages.map(\.name) }
        for point in MatrixExpander.cells(axes: out.axes, exclude: out.exclude) where keep(point) {
            let value = AxisTemplate.substitute(s, point)
            let parts = value.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty, names.contains(parts[0]) else {
                let cell = point.map { "\($0.axis)=\($0.value)" }.joined(separator: ",")
                return diags.add(node.location, keyPath, "'\(s)' gives '\(value)' in cell \(cell), which is not 'stage.metric' of a stage",
                                 expected: "every cell to name a stage and a metric")
            }
        }
    }
}
