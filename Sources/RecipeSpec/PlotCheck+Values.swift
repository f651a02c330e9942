import Foundation

/// Checks of value plots (`value:` and a matrix axis as `x`) and of `where:`.
extension StructureChecker {
    /// `value` and `x` of a value plot; nil when one is missing or malformed. `stage` and `y`
    /// belong to curve plots, so naming them here is a mistake worth reporting.
    mutating func checkValueSource(_ p: ConfigNode, _ path: String, filter: [CellCondition]) -> PlotSpec? {
        for key in ["stage", "y"] {
            guard let node = p[key] else { continue }
            diags.add(node.keyLocation ?? node.location, path + "." + key, "'\(key)' does not go with 'value'",
                      expected: "either value and x (one number per cell, from summary.json) "
                          + "or stage, x and y (curves from metrics.jsonl)")
        }
        var value: String?
        if let v = p["value"] {
            if let s = v.string, !s.isEmpty {
                value = s
                checkValue(s, v, keyPath: path + ".value", keep: { point in filter.allSatisfy { $0.matches(point) } })
            } else {
                wrongType(v, path + ".value", "'stage.metric', e.g. eval.mean")
            }
        }
        let x = plotString(p, "x", path, required: "the matrix axis whose values are the x positions")
        if x != nil, let node = p["x"] { _ = axisList(node, path + ".x") }
        guard let value, let x else { return nil }
        return PlotSpec(value: value, x: x)
    }

    /// `where:`: a map from matrix axis to one of its values or a list of them.
    mutating func cellFilter(_ node: ConfigNode?, _ path: String) -> [CellCondition] {
        guard let node else { return [] }
        guard let entries = node.entries else {
            wrongType(node, path, "a map from matrix axis to a value or a list of values, e.g. { category: reasoning }")
            return []
        }
        var conditions: [CellCondition] = []
        for (axis, v) in entries {
            guard let axisValues = out.axes.first(where: { $0.axis == axis })?.values else {
                let axes = out.axes.map(\.axis), s = didYouMean(axis, among: axes)
                diags.add(v.keyLocation ?? v.location, path + "." + axis, "'\(axis)' is not a matrix axis",
                          expected: s == nil ? "one of " + axes.joined(separator: ", ") : nil, suggestion: s)
                continue
            }
            let known = axisValues.map(\.value.description)
            var values: [String] = []
            for item in v.list ?? [v] {
                guard !item.value.isCollection else { wrongType(item, path + "." + axis, "a value of '\(axis)'"); continue }
                let s = item.value.description
                values.append(s)
                guard !known.contains(s) else { continue }
                let guess = didYouMean(s, among: known)
                diags.add(item.location, path + "." + axis, "'\(s)' is not a value of matrix axis '\(axis)'",
                          expected: guess == nil ? "one of " + known.joined(separator: ", ") : nil, suggestion: guess)
            }
            conditions.append(CellCondition(axis: axis, values: values))
        }
        return conditions
    }

    /// A value plot reads one number per cell, so among the cells `where:` keeps, every axis with
    /// several values must be x, lines, panels or aggregate; else two numbers would share a point.
    mutating func checkValuePlacement(_ spec: PlotSpec, _ p: ConfigNode, _ path: String) {
        guard out.expandable else { return }
        let kept = MatrixExpander.cells(axes: out.axes, exclude: out.exclude).filter { spec.selects($0) }
        guard !kept.isEmpty else {
            return diags.add(p["where"]?.location ?? p.location, path + ".where", "no cell of the matrix meets every condition",
                             expected: "values that occur together in some cell (exclude: may drop them)")
        }
        for (axis, _) in out.axes where !spec.placedAxes.contains(axis) {
            let values = Set(kept.compactMap { cell in cell.first { $0.axis == axis }?.value.description })
            guard values.count > 1 else { continue }
            diags.add(p.location, path, "matrix axis '\(axis)' has \(values.count) values in the plotted cells but is not placed",
                      expected: "it in lines, panels or aggregate, or fixed by where: { \(axis): value }")
        }
    }
}
