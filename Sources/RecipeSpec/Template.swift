import Foundation

/// A string split into literal text and `${...}` references; `$${` writes a literal `${`.
enum TemplatePart: Equatable {
    case text(String)
    /// A reference such as `vars.steps`, split on dots.
    case ref([String])
}

enum Template {
    /// Roots a reference may start with.
    static let roots = ["matrix", "vars", "stages"]

    /// True when `s` needs template processing at all.
    static func mayContainReference(_ s: String) -> Bool { s.contains("${") }

    /// Splits `s` into parts; the error message says what is malformed.
    static func parse(_ s: String) -> Result<[TemplatePart], TemplateError> {
        var parts: [TemplatePart] = []
        var text = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i...].hasPrefix("$${") {
                text += "${"
                i = s.index(i, offsetBy: 3)
            } else if s[i...].hasPrefix("${") {
                let start = s.index(i, offsetBy: 2)
                guard let close = s[start...].firstIndex(of: "}") else {
                    return .failure(TemplateError(message: "unterminated reference in \(ConfigValue.jsonQuote(s))",
                                                  expected: "${...} closed by '}' (write $${ for a literal ${)"))
                }
                let body = s[start..<close].trimmingCharacters(in: .whitespaces)
                let path = body.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                if let problem = check(path, body: body) { return .failure(problem) }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                parts.append(.ref(path))
                i = s.index(after: close)
            } else {
                text.append(s[i])
                i = s.index(after: i)
            }
        }
        if !text.isEmpty || parts.isEmpty { parts.append(.text(text)) }
        return .success(parts)
    }

    private static func check(_ path: [String], body: String) -> TemplateError? {
        let shape = "${matrix.AXIS}, ${vars.PATH} or ${stages.NAME.FIELD}"
        guard let root = path.first, !root.isEmpty else {
            return TemplateError(message: "empty reference '${\(body)}'", expected: shape)
        }
        guard roots.contains(root) else {
            return TemplateError(message: "unknown reference root '\(root)' in '${\(body)}'", expected: shape,
                                 suggestion: didYouMean(root, among: roots))
        }
        if path.contains(where: { $0.isEmpty }) || path.count < 2 || (root == "stages" && path.count < 3)
            || (root == "matrix" && path.count != 2) {
            return TemplateError(message: "malformed reference '${\(body)}'", expected: shape)
        }
        return nil
    }
}

/// What is wrong with a template string.
struct TemplateError: Error {
    var message: String
    var expected: String?
    var suggestion: String?
}
