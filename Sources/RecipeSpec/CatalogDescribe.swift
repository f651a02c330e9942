import Foundation

extension FieldSchema {
    /// `required`, `optional` or `default <value>`, for listings.
    public var defaultDescription: String {
        if let d = defaultValue { return "default " + ScalarText.yaml(d) }
        return optional ? "optional" : "required"
    }
}

extension StageSchema {
    /// The listing `preflab stages` prints: summary, outputs and engines, then per field its type,
    /// default and range on one line and its doc under it.
    public func describe() -> String {
        var lines = ["\(kind) — \(summary)"]
        if !outputs.isEmpty { lines.append("  outputs: " + outputs.map(\.rawValue).joined(separator: ", ")) }
        if engines.count > 1 { lines.append("  engines: " + engines.map(\.engine).joined(separator: ", ")) }
        let width = fields.map(\.name.count).max() ?? 0
        for f in fields {
            let name = f.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(name)  \(f.type) (\(f.defaultDescription)\(f.range.map { ", \($0)" } ?? ""))")
            if !f.doc.isEmpty { lines.append("  \(String(repeating: " ", count: width))    \(f.doc)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The same as a Markdown section with a table of fields (`preflab stages --markdown`).
    public func markdown() -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["## `\(kind)`", "", summary]
        if !outputs.isEmpty { lines.append("Outputs: " + outputs.map(\.rawValue).joined(separator: ", ") + ".") }
        lines.append("Engines: " + engines.map(\.engine).joined(separator: ", ") + ".")
        lines += ["", "| field | type | default | range | doc |", "|---|---|---|---|---|"]
        for f in fields {
            lines.append("| `\(f.name)` | \(cell(f.type.description)) | \(cell(f.defaultDescription)) | \(f.range.map { cell($0.description) } ?? "") | \(cell(f.doc)) |")
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
