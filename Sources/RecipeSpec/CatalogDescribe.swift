import Foundation

extension FieldSchema {
    /// `required`, `optional` or `default <value>`, for listings.
    public var defaultDescription: String {
        if let d = defaultValue { return "default " + ScalarText.yaml(d) }
        return optional ? "optional" : "required"
    }
}

extension StageSchema {
    /// A listing of the kind for `preflab stages`: summary, then one line per field with type,
    /// default and doc.
    public func describe() -> String {
        var lines = ["\(kind) — \(summary)"]
        let width = fields.map(\.name.count).max() ?? 0
        for f in fields {
            let name = f.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(name)  \(f.type)  (\(f.defaultDescription))  \(f.doc)")
        }
        return lines.joined(separator: "\n")
    }
}

extension StageCatalog {
    /// Every kind's listing, sorted by kind, separated by blank lines.
    public func describe() -> String {
        kinds.compactMap { schema($0)?.describe() }.joined(separator: "\n\n")
    }
}
