import Foundation

/// Reading a function out of a chat model's answer, as evalplus's `sanitize` does (evalplus/sanitize.py):
/// take the fenced block that defines the entry point, keep its top-level imports, classes, functions
/// and the assignments they use, and drop everything else (example calls, `print`s, asserts, prose),
/// which would otherwise run before the tests or be a syntax error. evalplus parses with tree-sitter
/// and keeps only the entry point's dependency closure; this reads top-level statements by
/// indentation, which keeps every definition (an unused helper is harmless to the tests).
public enum HumanEvalCode {
    /// The non-blank pieces of `text` between ```` ``` ```` fence lines, in order. The piece before the
    /// first fence counts: the prompt's assistant prefix opens a fence, so the answer starts inside one.
    public static func fencedBlocks(_ text: String) -> [String] {
        var blocks: [String] = [], current: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                blocks.append(current.joined(separator: "\n"))
                current = []
            } else {
                current.append(line)
            }
        }
        blocks.append(current.joined(separator: "\n"))
        return blocks.filter { !PythonText.strip($0).isEmpty }
    }

    /// The sanitized code of the first block that defines `entryPoint` at top level, or nil if none does.
    public static func sanitized(_ response: String, entryPoint: String) -> String? {
        guard let block = fencedBlocks(response).first(where: { defines($0, entryPoint) }) else { return nil }
        return topLevelDefinitions(block)
    }

    /// Whether `code` has a top-level `def entryPoint(`.
    static func defines(_ code: String, _ entryPoint: String) -> Bool {
        code.split(separator: "\n").contains { $0.hasPrefix("def \(entryPoint)(") || $0.hasPrefix("async def \(entryPoint)(") }
    }

    /// The prompt's top-level `import` / `from` lines, joined.
    public static func topLevelImports(_ code: String) -> String {
        code.split(separator: "\n").filter { $0.hasPrefix("import ") || $0.hasPrefix("from ") }.joined(separator: "\n")
    }

    /// Top-level statements: a line that starts without indentation opens one; indented and blank lines
    /// (and closing brackets of a multi-line expression) continue it.
    static func statements(_ code: String) -> [[Substring]] {
        var out: [[Substring]] = []
        for line in code.split(separator: "\n", omittingEmptySubsequences: false) {
            let opens = !line.isEmpty && !(line.first.map { $0 == " " || $0 == "\t" || ")]}".contains($0) } ?? true)
            if opens || out.isEmpty { out.append([line]) } else { out[out.count - 1].append(line) }
        }
        return out
    }

    static let definitionHeads = ["def ", "async def ", "class ", "import ", "from ", "@"]
    static let assignment = Regex.compile(#"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]*)?=(?!=)"#)

    /// Imports, decorators, functions and classes, plus the top-level assignments whose name they use.
    /// A last statement the token limit cut off is dropped, as evalplus keeps only code that parses.
    static func topLevelDefinitions(_ code: String) -> String {
        var all = statements(code)
        if all.count > 1, let last = all.last, looksCut(last.joined(separator: "\n")) { all.removeLast() }
        let isDefinition = { (s: [Substring]) in definitionHeads.contains { s[0].hasPrefix($0) } }
        let definitions = all.filter(isDefinition).map { $0.joined(separator: "\n") }.joined(separator: "\n")
        let kept = all.filter { s in
            if isDefinition(s) { return true }
            guard let name = Regex.findAll(assignment, String(s[0])).first?.first else { return false }
            return definitions.range(of: #"\b\#(name)\b"#, options: .regularExpression) != nil
        }
        return kept.map { s in s.joined(separator: "\n").replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }
            .joined(separator: "\n\n") + "\n"
    }

    /// Whether a statement ends where no complete Python statement can: brackets or a triple-quoted
    /// string left open, or a last line ending in `:`, `,`, a backslash, an operator or a keyword that
    /// needs an operand. A cheap stand-in for evalplus's syntax check of the tail (brackets inside
    /// one-line strings are not told apart).
    static func looksCut(_ statement: String) -> Bool {
        for quote in ["\"\"\"", "\'\'\'"] where statement.components(separatedBy: quote).count % 2 == 0 { return true }
        let depth = statement.reduce(0) { d, ch in "([{".contains(ch) ? d + 1 : ")]}".contains(ch) ? d - 1 : d }
        if depth > 0 { return true }
        let lines = statement.split(separator: "\n").map { PythonText.strip(String($0)) }.filter { !$0.isEmpty }
        guard let tail = lines.last, let lastChar = tail.last else { return false }
        let lastWord = tail.split(separator: " ").last.map(String.init) ?? ""
        return ":,\\+-*/%=<>&|^".contains(lastChar) || ["and", "or", "not", "in", "is", "if", "else", "lambda"].contains(lastWord)
    }
}
