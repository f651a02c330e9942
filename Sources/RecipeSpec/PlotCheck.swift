import Foundation

extension StructureChecker {
    /// Checks `plots:` against the matrix axes and stage names.
    mutating func checkPlots() {
        guard let raw = doc["plots"] else { return }
        guard let plots = resolver.resolve(raw, keyPath: "plots") else { return }
        guard let entries = plots.entries else {
            return wrongType(plots, "plots", "a map from plot name to { stage, x, y, ... }")
        }
        for (name, node) in entries {
            if let spec = checkPlot(node, name: name) { out.plots.append((name, spec)) }
        }
    }

    /// One plot entry; nil when it is not a map or a required key is missing or malformed.
    private mutating func checkPlot(_ p: ConfigNode, name: String) -> PlotSpec? {
        let path = "plots." + name, errorsBefore = diags.errors.count
        if !StructureChecker.isName(name) {
            diags.add(p.keyLocation ?? p.location, path, "invalid plot name '\(name)'",
                      expected: "letters, digits, '_' and '-' (the name is used in file names)")
        }
        guard p.entries != nil else {
            wrongType(p, path, "a map with stage, x and y")
            return nil
        }
        for (key, node) in p.entries ?? [] where !RecipeKeys.plot.contains(key) {
            unknownKey(key, node, keyPath: path + "." + key, among: RecipeKeys.plot, what: "unknown key in plot")
        }
        let stage = plotString(p, "stage", path, required: "a stage name, or a template such as '{algorithm}'")
        let x = plotString(p, "x", path, required: "'step' or the name of a recorded value")
        let y = metricList(p, path)
        var spec = PlotSpec(stage: stage ?? "", x: x ?? "", y: y ?? [],
                            lines: axisList(p["lines"], path + ".lines"),
                            panels: axisList(p["panels"], path + ".panels"))
        if let a = p["aggregate"] {
            if a.list != nil { wrongType(a, path + ".aggregate", "one matrix axis") } else {
                spec.aggregate = axisList(a, path + ".aggregate").first
            }
        }
        spec.title = plotString(p, "title", path)
        spec.xLabel = plotString(p, "x_label", path)
        spec.yLabel = plotString(p, "y_label", path)
        if let stage, let node = p["stage"] { checkPlotStage(stage, node, path + ".stage") }
        // A misspelt key or axis would also leave an axis unplaced: report only the cause.
        if diags.errors.count == errorsBefore { checkPlacement(spec, p, path) }
        return stage == nil || x == nil || y == nil ? nil : spec
    }

    /// A string-valued key; `required` (what is expected) makes its absence an error.
    private mutating func plotString(_ p: ConfigNode, _ key: String, _ path: String, required: String? = nil) -> String? {
        guard let node = p[key] else {
            if let required { diags.add(p.location, path + "." + key, "missing required key '\(key)'", expected: required) }
            return nil
        }
        guard let s = node.string, !s.isEmpty else {
            wrongType(node, path + "." + key, required ?? "a string")
            return nil
        }
        return s
    }

    /// `y:`: one metric name or a non-empty list of them.
    private mutating func metricList(_ p: ConfigNode, _ path: String) -> [String]? {
        let expected = "a metric name or a list of them, e.g. [reward, loss]"
        guard let node = p["y"] else {
            diags.add(p.location, path + ".y", "missing required key 'y'", expected: expected)
            return nil
        }
        let items = node.list ?? [node]
        let names = items.compactMap { $0.string }.filter { !$0.isEmpty }
        guard !items.isEmpty, names.count == items.count else {
            wrongType(node, path + ".y", expected)
            return nil
        }
        return names
    }

    /// A literal stage must exist; a template must name a stage in every cell of the matrix.
    private mutating func checkPlotStage(_ template: String, _ node: ConfigNode, _ path: String) {
        // Stages `per_cell` adds exist in some cells only; the builder checks each cell.
        let names = out.stages.map(\.name) + out.perCell.flatMap { $0.stages.map(\.name) }
        let axes = out.axes.map(\.axis)
        let holes = AxisTemplate.placeholders(template)
        if holes.isEmpty {
            guard !names.contains(template) else { return }
            let s = didYouMean(template, among: names)
            return diags.add(node.location, path, "unknown stage '\(template)'",
                             expected: s == nil ? "the name of a stage of this recipe" : nil, suggestion: s)
        }
        for hole in holes where !axes.contains(hole) {
            let s = didYouMean(hole, among: axes)
            return diags.add(node.location, path, "'{\(hole)}' is not a matrix axis",
                             expected: s == nil ? "'{axis}' with one of " + axes.joined(separator: ", ") : nil,
                             suggestion: s.map { template.replacingOccurrences(of: "{\(hole)}", with: "{\($0)}") })
        }
        guard out.expandable else { return }
        var reported: Set<String> = []
        for point in MatrixExpander.cells(axes: out.axes, exclude: out.exclude) {
            let name = AxisTemplate.substitute(template, point)
            guard !names.contains(name), reported.insert(name).inserted else { continue }
            let cell = point.map { "\($0.axis)=\($0.value)" }.joined(separator: ",")
            diags.add(node.location, path, "'\(template)' gives '\(name)' in cell \(cell), which is not a stage",
                      expected: "every cell to name a stage of this recipe", suggestion: didYouMean(name, among: names))
        }
    }

    /// An axis may be placed at most once. An axis left unplaced is allowed here: when it does not
    /// change the plotted node (a stage it does not reach), its cells share one curve; when it does,
    /// `PlotBuilder` reports it, since only the graph knows.
    private mutating func checkPlacement(_ spec: PlotSpec, _ p: ConfigNode, _ path: String) {
        let placed = spec.lines + spec.panels + (spec.aggregate.map { [$0] } ?? [])
        for (i, axis) in placed.enumerated() where placed[..<i].contains(axis) {
            diags.add(p.location, path, "matrix axis '\(axis)' is placed twice",
                      expected: "each axis in at most one of lines, panels, aggregate")
        }
    }
}
