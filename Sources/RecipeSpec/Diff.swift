/// The semantic difference between two resolved recipes, per matrix cell and key path.
///
/// Paths: top-level values as `name`, `table.value`; cell values as
/// `cell[<label>].stages.<stage>.<field>`, or `cell[*]....` when the same change applies to every
/// cell the two recipes share. Lists compare as whole values (they merge whole too).
public struct RecipeDiff: Sendable {
    /// Changed, added (`old` nil) and removed (`new` nil) values, as YAML text.
    public var changes: [(path: String, old: String?, new: String?)] = []
    /// Labels of cells only in the second recipe.
    public var cellsAdded: [String] = []
    /// Labels of cells only in the first recipe.
    public var cellsRemoved: [String] = []

    public init() {}

    public var isEmpty: Bool { changes.isEmpty && cellsAdded.isEmpty && cellsRemoved.isEmpty }

    /// Compares `a` (old) with `b` (new).
    public static func between(_ a: ResolvedRecipe, _ b: ResolvedRecipe) -> RecipeDiff {
        var d = RecipeDiff()
        d.changes = compare(globals(a), globals(b)).map { ($0.path, $0.old, $0.new) }
        let aLabels = a.cells.map(\.label), bLabels = b.cells.map(\.label)
        d.cellsAdded = bLabels.filter { !aLabels.contains($0) }
        d.cellsRemoved = aLabels.filter { !bLabels.contains($0) }
        let shared = a.cells.filter { bLabels.contains($0.label) }
        var perCell: [(label: String, changes: [(path: String, old: String?, new: String?)])] = []
        for cell in shared {
            guard let other = b.cells.first(where: { $0.label == cell.label }) else { continue }
            perCell.append((cell.label, compare(leaves(cell), leaves(other))))
        }
        // A change seen identically in every shared cell is reported once, as cell[*].
        var everywhere: [(path: String, old: String?, new: String?)] = []
        if let first = perCell.first, perCell.count > 1 {
            everywhere = first.changes.filter { c in
                perCell.allSatisfy { $0.changes.contains { $0.path == c.path && $0.old == c.old && $0.new == c.new } }
            }
        }
        for c in everywhere { d.changes.append(("cell[*].\(c.path)", c.old, c.new)) }
        for (label, changes) in perCell {
            for c in changes where !everywhere.contains(where: { $0.path == c.path }) {
                d.changes.append(("cell[\(label)].\(c.path)", c.old, c.new))
            }
        }
        return d
    }

    /// Human-readable lines: `~ path: old -> new`, `+ path: new`, `- path: old`, then cell changes.
    public func render() -> String {
        if isEmpty { return "no differences\n" }
        var lines: [String] = []
        for c in changes {
            switch (c.old, c.new) {
            case let (o?, n?): lines.append("~ \(c.path): \(o) -> \(n)")
            case let (nil, n?): lines.append("+ \(c.path): \(n)")
            case let (o?, nil): lines.append("- \(c.path): \(o)")
            default: break
            }
        }
        lines += cellsAdded.map { "+ cell \($0)" }
        lines += cellsRemoved.map { "- cell \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func globals(_ r: ResolvedRecipe) -> [(String, String)] {
        var out = [("name", ScalarText.yaml(.string(r.name))), ("scale", ScalarText.yaml(.string(r.scale)))]
        if let t = r.table { out += flatten(RecipeRenderer.tableNode(t).value, prefix: "table") }
        if !r.plots.isEmpty { out += flatten(RecipeRenderer.plotsNode(r.plots).value, prefix: "plots") }
        return out
    }

    private static func leaves(_ cell: RecipeCell) -> [(String, String)] {
        cell.stages.flatMap { flatten($0.config.value, prefix: "stages.\($0.name)") }
    }

    /// Path → YAML text of every scalar or list, maps descended.
    static func flatten(_ v: ConfigValue, prefix: String) -> [(String, String)] {
        switch v {
        case let .map(entries) where !entries.isEmpty:
            return entries.flatMap { flatten($0.value.value, prefix: prefix + "." + $0.key) }
        case .list, .map:
            return [(prefix, RecipeRenderer.inline(v) ?? v.canonicalJSON)]
        default:
            return [(prefix, ScalarText.yaml(v))]
        }
    }

    private static func compare(_ a: [(String, String)], _ b: [(String, String)]) -> [(path: String, old: String?, new: String?)] {
        let bMap = Dictionary(b, uniquingKeysWith: { x, _ in x })
        let aMap = Dictionary(a, uniquingKeysWith: { x, _ in x })
        var out: [(path: String, old: String?, new: String?)] = []
        for (p, v) in a where bMap[p] != v { out.append((p, v, bMap[p])) }
        for (p, v) in b where aMap[p] == nil { out.append((p, nil, v)) }
        return out
    }
}
