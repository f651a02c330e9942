import RecipeSpec

/// The text `preflab stages` prints for one kind.
public enum StageDocs {
    public static func render(_ s: StageSchema) -> String {
        var out = "\(s.kind) — \(s.summary)\n"
        let width = s.fields.map(\.name.count).max() ?? 0
        for f in s.fields {
            let pad = String(repeating: " ", count: width - f.name.count)
            let value: String
            if let d = f.defaultValue { value = "default \(d.canonicalJSON)" } else { value = f.optional ? "optional" : "required" }
            out += "  \(f.name)\(pad)  \(f.type) (\(value))\n"
            if !f.doc.isEmpty { out += "  \(String(repeating: " ", count: width))    \(f.doc)\n" }
        }
        return out
    }
}
