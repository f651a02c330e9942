import Foundation
import RecipeSpec

/// Which matrix axes a table or plot places, shared so both report the same problems.
extension TableBuilder {
    /// What is wrong with placing `placed` axes over the recipe's cells (tables and plots).
    enum AxisPlacement: Equatable {
        /// A placed axis that is not a matrix axis.
        case unknown(String, available: [String])
        /// A matrix axis with several values that is not placed.
        case unplaced(String)
    }

    /// The first placed axis that is not a matrix axis, else the first several-valued axis not
    /// placed, over `cells` (a plot's `where:` passes the cells it keeps).
    static func axisPlacement(_ placed: [String], cells: [RecipeCell]) -> AxisPlacement? {
        let axes = matrixAxes(cells)
        if let axis = placed.first(where: { !axes.contains($0) }) { return .unknown(axis, available: axes) }
        for axis in axes where !placed.contains(axis) {
            let values = Set(cells.compactMap { cell in cell.matrix.first { $0.axis == axis }?.value.canonicalJSON })
            if values.count > 1 { return .unplaced(axis) }
        }
        return nil
    }

    /// The matrix axes of `cells`, in axis order.
    static func matrixAxes(_ cells: [RecipeCell]) -> [String] {
        var axes: [String] = []
        for cell in cells { for m in cell.matrix where !axes.contains(m.axis) { axes.append(m.axis) } }
        return axes
    }
}
