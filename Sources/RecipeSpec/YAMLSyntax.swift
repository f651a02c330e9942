import Foundation
import Yams

// Turning Yams' parse failures into located recipe errors.

extension YAMLReader {
    /// The recipe error for a Yams failure: a tab in indentation, a duplicate key, or plain syntax.
    static func syntaxError(_ error: YamlError, text: String, file: String) -> RecipeError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            if let tab = firstIndentTab(text, upToLine: mark.line) {
                return RecipeError(location: SourceLocation(file: file, line: tab.line, column: tab.column),
                                   keyPath: "", message: "tab character in indentation",
                                   expected: "spaces (YAML does not allow tabs for indentation)")
            }
            if problem.contains("found another document") {
                return RecipeError(location: SourceLocation(file: file, line: mark.line, column: mark.column), keyPath: "",
                                   message: "a second YAML document ('---') in a recipe file",
                                   expected: "one document per file (use extends: to combine files)")
            }
            if problem.contains("undefined alias") {
                let name = aliasName(in: text, line: mark.line, column: mark.column)
                return RecipeError(location: SourceLocation(file: file, line: mark.line, column: mark.column), keyPath: "",
                                   message: "undefined YAML alias '*\(name)'",
                                   expected: "an anchor '&\(name)' written earlier in the same file")
            }
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return RecipeError(location: SourceLocation(file: file, line: mark.line, column: mark.column),
                               keyPath: "", message: message)
        case let .reader(problem, offset, _, _):
            let (line, column) = lineAndColumn(text, characterOffset: offset ?? 0)
            return RecipeError(location: SourceLocation(file: file, line: line, column: column),
                               keyPath: "", message: "unreadable text: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return duplicateKeyError(key: duplicates.first ?? "?", firstMark: context.mark, text: text, file: file)
        default:
            return RecipeError(location: SourceLocation(file: file, line: 1, column: 1),
                               keyPath: "", message: "invalid YAML: \(error)")
        }
    }

    /// The name of the alias written at `line`:`column` (1-based, pointing at its `*`).
    static func aliasName(in text: String, line: Int, column: Int) -> String {
        let lines = text.components(separatedBy: "\n")
        guard line >= 1, line <= lines.count else { return "?" }
        let rest = lines[line - 1].unicodeScalars.dropFirst(max(0, column - 1)).drop { $0 == "*" }
        let stop: Set<Unicode.Scalar> = [" ", "\t", ",", "]", "}", "\r"]
        let name = String(String.UnicodeScalarView(rest.prefix { !stop.contains($0) }))
        return name.isEmpty ? "?" : name
    }

    /// Where the first byte that is not valid UTF-8 sits (1-based line and byte column), nil when all is valid.
    static func firstInvalidUTF8(_ data: Data) -> (line: Int, column: Int)? {
        let bytes = [UInt8](data)
        var i = 0, line = 1, lineStart = 0
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0
            guard length > 0, i + length <= bytes.count,
                  String(bytes: bytes[i..<(i + length)], encoding: .utf8) != nil else { return (line, i - lineStart + 1) }
            if b == 0x0A { line += 1; lineStart = i + 1 }
            i += length
        }
        return nil
    }

    /// Line and column (1-based) of the first tab in the leading whitespace of a non-blank line.
    static func firstIndentTab(_ text: String, upToLine last: Int) -> (line: Int, column: Int)? {
        for (i, line) in text.components(separatedBy: "\n").enumerated() where i < last {
            let indent = line.prefix { $0 == " " || $0 == "\t" }
            let rest = line.dropFirst(indent.count).trimmingCharacters(in: .whitespaces)
            guard !rest.isEmpty, let tab = indent.firstIndex(of: "\t") else { continue }
            return (i + 1, indent.distance(from: indent.startIndex, to: tab) + 1)
        }
        return nil
    }

    static func lineAndColumn(_ text: String, characterOffset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for (i, ch) in text.enumerated() {
            if i >= characterOffset { break }
            if ch == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// Points a duplicate-key error at the second occurrence, with the key's full path.
    ///
    /// Yams reports only the first occurrence, so the first key is renamed in place (same
    /// length, so every position stays put) and the text parsed again to find its twin.
    static func duplicateKeyError(key: String, firstMark: Mark, text: String, file: String) -> RecipeError {
        let first = SourceLocation(file: file, line: firstMark.line, column: firstMark.column)
        let fallback = RecipeError(location: first, keyPath: key, message: "duplicate key")
        var lines = text.components(separatedBy: "\n")
        guard firstMark.line - 1 < lines.count else { return fallback }
        var scalars = Array(lines[firstMark.line - 1].unicodeScalars)
        var col = firstMark.column - 1
        guard col < scalars.count else { return fallback }
        if scalars[col] == "\"" || scalars[col] == "'" { col += 1 }
        guard col < scalars.count else { return fallback }
        scalars[col] = "\u{E000}"
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        lines[firstMark.line - 1] = String(view)
        guard let node = try? Yams.compose(yaml: lines.joined(separator: "\n"), resolver),
              let config = try? convert(node, file: file) else { return fallback }
        guard let found = findTwin(of: first, key: key, in: config, path: "") else { return fallback }
        return RecipeError(location: found.location, keyPath: found.path,
                           message: "duplicate key (first written at \(firstMark.line):\(firstMark.column))")
    }

    private static func convert(_ node: Node, file: String) throws -> ConfigNode {
        var d = Diagnostics()
        return convertForSearch(node, file: file, diags: &d)
    }

    private static func findTwin(of first: SourceLocation, key: String, in node: ConfigNode,
                                 path: String) -> (location: SourceLocation?, path: String)? {
        if let entries = node.entries {
            if entries.contains(where: { $0.value.keyLocation == first }),
               let twin = entries.first(where: { $0.key == key }) {
                return (twin.value.keyLocation, path.isEmpty ? key : path + "." + key)
            }
            for e in entries {
                if let f = findTwin(of: first, key: key, in: e.value, path: path.isEmpty ? e.key : path + "." + e.key) {
                    return f
                }
            }
        } else if let items = node.list {
            for (i, item) in items.enumerated() {
                if let f = findTwin(of: first, key: key, in: item, path: "\(path)[\(i)]") { return f }
            }
        }
        return nil
    }
}
