/// Expands matrix axes into cells: the cross product in axis order, first axis slowest.
enum MatrixExpander {
    typealias Cell = [(axis: String, value: ConfigValue)]

    /// Every cell not dropped by an exclude entry; one empty cell when there are no axes.
    static func cells(axes: [(axis: String, values: [ConfigNode])],
                      exclude: [[(axis: String, values: [ConfigNode])]]) -> [Cell] {
        var cells: [Cell] = [[]]
        for (axis, values) in axes {
            cells = cells.flatMap { prefix in values.map { prefix + [(axis, $0.value)] } }
        }
        return cells.filter { cell in !exclude.contains { matches($0, cell) } }
    }

    /// An entry drops a cell when every axis it names holds one of the listed values.
    static func matches(_ rule: [(axis: String, values: [ConfigNode])], _ cell: Cell) -> Bool {
        rule.allSatisfy { r in
            guard let v = cell.first(where: { $0.axis == r.axis })?.value else { return false }
            return r.values.contains { $0.value == v }
        }
    }
}
