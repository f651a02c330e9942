import Foundation

extension StructureChecker {
    /// Checks `plots:` against the matrix axes and stage names.
    mutating func checkPlots() {
        guard let raw = doc["plots"] else { return }
        guard let plots = resolver.resolve(raw, keyPath: "plots") else { return }
        guard let entries = plots.entries else {
            return wrongType(plots, "plots", "a map from plot name to { stage, x, y, ... } or { value, x, ... }")
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
            wrongType(p, path, "a map with stage, x and y, or value and x")
            return nil
        }
        for (key, node) in p.entries ?? [] where !RecipeKeys.plot.contains(key) {
            unknownKey(key, node, keyPath: path + "." + key, among: RecipeKeys.plot, what: "unknown key in plot")
        }
        let filter = cellFilter(p["where"], path + ".where")
        let source = p["value"] == nil ? checkCurveSource(p, path) : checkValueSource(p, path, filter: filter)
        // Checked even when the source is broken, so one pass reports every problem.
        let lines = axisList(p["lines"], path + ".lines"), panels = axisList(p["panels"], path + ".panels")
        let aggregate = aggregateAxis(p["aggregate"], path + ".aggregate")
        let title = plotString(p, "title", path), xLabel = plotString(p, "x_label", path)
        let yLabel = plotString(p, "y_label", path)
        guard var spec = source else { return nil }
        (spec.lines, spec.panels, spec.aggregate, spec.filter) = (lines, panels, aggregate, filter)
        (spec.title, spec.xLabel, spec.yLabel) = (title, xLabel, yLabel)
        // A misspelt key or axis would also leave an axis unplaced: report only the cause.
        if diags.errors.count == errorsBefore { checkPlacement(spec, p, path) }
        return spec
    }

    /// `aggregate:`: one matrix axis.
    private mutating func aggregateAxis(_ a: ConfigNode?, _ path: String) -> String? {
        guard let a else { return nil }
        if a.list != nil {
            wrongType(a, path, "one matrix axis")
            return nil
        }
        return axisList(a, path).first
    }

    /// `stage`, `x` and `y` of a curve plot; nil when one is missing or malformed.
    private mutating func checkCurveSource(_ p: ConfigNode, _ path: String) -> PlotSpec? {
        let stage = plotString(p, "stage", path, required: "a stage name, or a template such as '{algorithm}'")
        let x = plotString(p, "x", path, required: "'step' or the name of a recorded value")
        let y = metricList(p, path)
        if let stage, let node = p["stage"] { checkPlotStage(stage, node, path + ".stage") }
        guard let stage, let x, let y else { return nil }
        return PlotSpec(stage: stage, x: x, y: y)
    }

    /// A string-valued key; `required` (what is expected) makes its absence an error.
    mutating func plotString(_ p: ConfigNode, _ key: String, _ path: String, required: String? = nil) -> String? {
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

    /// An axis may be placed at most once. An axis left unplaced is allowed in a curve plot: when
    /// it does not change the plotted node (a stage it does not reach), its cells share one curve;
    /// when it does, `PlotBuilder` reports it, since only the graph knows. A value plot reads one
    /// number per cell, so there every axis must be placed (`checkValuePlacement`).
    private mutating func checkPlacement(_ spec: PlotSpec, _ p: ConfigNode, _ path: String) {
        let placed = spec.placedAxes
        for (i, axis) in placed.enumerated() where placed[..<i].contains(axis) {
            diags.add(p.location, path, "matrix axis '\(axis)' is placed twice",
                      expected: spec.value == nil ? "each axis in at most one of lines, panels, aggregate"
                          : "each axis in at most one of x, lines, panels, aggregate")
        }
        if spec.value != nil, placed.count == Set(placed).count { checkValuePlacement(spec, p, path) }
    }
}
