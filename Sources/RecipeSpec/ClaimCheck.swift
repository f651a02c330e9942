import Foundation

/// The keys of one `claims:` entry and of one of its arms.
enum ClaimKeys {
    static let claim = ["id", "text", "a", "b", "expect", "min_effect", "paired", "note"]
    static let arm = ["row", "column", "fixed"]
}

extension StructureChecker {
    /// Checks `claims:` (after `table:`): shapes, unique ids, and every arm against the table's
    /// row and column labels. A child recipe's list replaces its parent's (lists merge whole).
    mutating func checkClaims() {
        guard let raw = doc["claims"] else { return }
        guard let node = resolver.resolve(raw, keyPath: "claims") else { return }
        guard let entries = node.list else {
            return wrongType(node, "claims", "a list of { id, text, a, b, expect, min_effect? }")
        }
        if out.table == nil {
            diags.add(node.location, "claims", "claims compare table cells, but the recipe has no table:",
                      expected: "a table: block with rows, columns and value")
        }
        let labels = tableLabels()
        var ids: [String: SourceLocation?] = [:]
        for (i, entry) in entries.enumerated() {
            let path = "claims[\(i)]"
            // Checked on the id alone, so a claim broken elsewhere still counts as taken.
            if let id = entry["id"]?.string {
                if let first = ids[id] {
                    diags.add(entry["id"]?.location, path + ".id", "duplicate claim id '\(id)'",
                              expected: "ids unique in the recipe" + (first.map { " (first at \($0))" } ?? ""))
                } else {
                    ids[id] = entry["id"]?.location
                }
            }
            if let claim = checkClaim(entry, path: path, labels: labels) { out.claims.append(claim) }
        }
    }

    /// One claim entry; nil when a required key is missing or malformed (each problem reported).
    private mutating func checkClaim(_ c: ConfigNode, path: String, labels: (rows: [String], columns: [String])?) -> ClaimSpec? {
        guard c.entries != nil else {
            wrongType(c, path, "a map { id, text, a, b, expect, min_effect? }")
            return nil
        }
        for (key, node) in c.entries ?? [] where !ClaimKeys.claim.contains(key) {
            unknownKey(key, node, keyPath: "\(path).\(key)", among: ClaimKeys.claim, what: "unknown key in a claim")
        }
        let id = claimString(c, "id", path, expected: "a short name (letters, digits, '_' and '-')")
        if let id, !StructureChecker.isName(id) {
            diags.add(c["id"]?.location, path + ".id", "invalid claim id '\(id)'", expected: "letters, digits, '_' and '-'")
        }
        let text = claimString(c, "text", path, expected: "the paper's claim in words, with its section")
        let a = claimArm(c["a"], path + ".a", defaultColumn: nil, labels: labels, at: c.location)
        let b = claimArm(c["b"], path + ".b", defaultColumn: a?.column, labels: labels, at: c.location)
        let expect = claimExpectation(c, path)
        let minEffect = claimMinEffect(c, path, expect: expect)
        var paired = false
        if let p = c["paired"] {
            if let v = p.bool { paired = v } else { wrongType(p, path + ".paired", "true or false") }
        }
        var note: String?
        if c["note"] != nil { note = claimString(c, "note", path, expected: "a string: context for findings.md, not a verdict") }
        if let a, let b { checkArmPair(a, b, paired: paired, c, path) }
        guard let id, let text, let a, let b, let expect else { return nil }
        return ClaimSpec(id: id, text: text, a: a, b: b, expect: expect, minEffect: minEffect, paired: paired,
                         note: note, location: c["id"]?.location ?? c.location)
    }

    /// Pairs that no test can compare: the same cell twice, two fixed arms, a fixed arm paired.
    private mutating func checkArmPair(_ a: ClaimSpec.Arm, _ b: ClaimSpec.Arm, paired: Bool, _ c: ConfigNode, _ path: String) {
        if a.row == b.row && a.column == b.column {
            diags.add(c["b"]?.location, path + ".b", "a and b name the same cell '\(a.label)'", expected: "two different cells")
        }
        if a.fixed && b.fixed {
            diags.add(c["b"]?.location, path + ".b.fixed", "both arms are fixed: there is nothing to test",
                      expected: "fixed: true on at most one arm")
        }
        if paired && (a.fixed || b.fixed) {
            diags.add(c["paired"]?.location, path + ".paired", "a fixed arm cannot be paired",
                      expected: "paired: false (a fixed arm is tested with a one-sample test)")
        }
    }

    /// `a:` or `b:`: `{ row, column?, fixed? }`; `b`'s column defaults to `a`'s.
    private mutating func claimArm(_ node: ConfigNode?, _ path: String, defaultColumn: String?,
                                   labels: (rows: [String], columns: [String])?, at: SourceLocation?) -> ClaimSpec.Arm? {
        guard let node else {
            diags.add(at, path, "missing required key '\(path.split(separator: ".").last ?? "")'",
                      expected: "a table cell { row: ROW, column: COLUMN }")
            return nil
        }
        guard node.entries != nil else {
            wrongType(node, path, "a table cell { row: ROW, column: COLUMN }")
            return nil
        }
        for (key, v) in node.entries ?? [] where !ClaimKeys.arm.contains(key) {
            unknownKey(key, v, keyPath: "\(path).\(key)", among: ClaimKeys.arm, what: "unknown key in a claim arm")
        }
        let row = claimString(node, "row", path, expected: "a row label of the table, e.g. 'dpo / word_collector'", scalar: true)
        let column = node["column"] == nil ? defaultColumn
            : claimString(node, "column", path, expected: "a column label of the table", scalar: true)
        if node["column"] == nil && defaultColumn == nil {
            diags.add(node.location, path + ".column", "missing required key 'column'", expected: "a column label of the table")
        }
        var fixed = false
        if let f = node["fixed"] {
            if let v = f.bool { fixed = v } else { wrongType(f, path + ".fixed", "true or false") }
        }
        if let labels, let row { checkLabel(row, node["row"] ?? node, path + ".row", among: labels.rows, what: "row") }
        if let labels, let column, let written = node["column"] {
            checkLabel(column, written, path + ".column", among: labels.columns, what: "column")
        }
        guard let row, let column else { return nil }
        return ClaimSpec.Arm(row: row, column: column, fixed: fixed)
    }

    private mutating func checkLabel(_ label: String, _ node: ConfigNode, _ path: String, among: [String], what: String) {
        guard !among.contains(label) else { return }
        let s = didYouMean(label, among: among)
        diags.add(node.location, path, "'\(label)' is not a \(what) of the table",
                  expected: s == nil ? "one of " + among.map { "'\($0)'" }.joined(separator: ", ") : nil, suggestion: s)
    }

    private mutating func claimExpectation(_ c: ConfigNode, _ path: String) -> ClaimSpec.Expectation? {
        let names = ClaimSpec.Expectation.allCases.map(\.rawValue)
        guard let s = claimString(c, "expect", path, expected: "one of " + names.joined(separator: ", ")) else { return nil }
        if let e = ClaimSpec.Expectation(rawValue: s) { return e }
        let sug = didYouMean(s, among: names)
        diags.add(c["expect"]?.location, path + ".expect", "unknown expectation '\(s)'",
                  expected: sug == nil ? "one of " + names.joined(separator: ", ") + " (the sign of a − b)" : nil, suggestion: sug)
        return nil
    }

    private mutating func claimMinEffect(_ c: ConfigNode, _ path: String, expect: ClaimSpec.Expectation?) -> Double? {
        let needsMargin = expect?.takesMargin ?? false
        guard let node = c["min_effect"] else {
            if let expect, needsMargin {
                diags.add(c["expect"]?.location ?? c.location, path + ".min_effect", "expect: \(expect.rawValue) needs a margin",
                          expected: expect == .equal ? "min_effect: the largest difference that still counts as no difference"
                                                     : "min_effect: the largest drop that still counts as no degradation")
            }
            return nil
        }
        guard let v = node.double, v.isFinite, v >= 0, !needsMargin || v > 0 else {
            wrongType(node, path + ".min_effect", needsMargin ? "a number > 0" : "a number ≥ 0")
            return nil
        }
        return v
    }

    /// A required string; with `scalar`, a number or bool reads as written (a label such as `1` of an int axis).
    private mutating func claimString(_ c: ConfigNode, _ key: String, _ path: String, expected: String,
                                      scalar: Bool = false) -> String? {
        guard let node = c[key] else {
            diags.add(c.location, "\(path).\(key)", "missing required key '\(key)'", expected: expected)
            return nil
        }
        let text = node.string ?? (scalar && !node.value.isCollection && !node.value.isNull ? node.value.description : nil)
        guard let s = text, !s.isEmpty else {
            wrongType(node, "\(path).\(key)", expected)
            return nil
        }
        return s
    }

    /// The table's row and column labels (as TableBuilder forms them), nil without a usable table.
    private func tableLabels() -> (rows: [String], columns: [String])? {
        guard let t = out.table, out.expandable else { return nil }
        let axes = out.axes.map(\.axis)
        guard (t.rows + t.columns).allSatisfy(axes.contains) else { return nil }
        var rows: [String] = [], columns: [String] = []
        for cell in MatrixExpander.cells(axes: out.axes, exclude: out.exclude) {
            let row = Self.label(cell, t.rows), column = Self.label(cell, t.columns)
            if !rows.contains(row) { rows.append(row) }
            if !columns.contains(column) { columns.append(column) }
        }
        return (rows, columns)
    }

    /// The axes' values in a cell, joined by ` / ` (TableBuilder.label's form).
    static func label(_ cell: MatrixExpander.Cell, _ axes: [String]) -> String {
        axes.map { a in cell.first { $0.axis == a }.map { "\($0.value)" } ?? "" }.joined(separator: " / ")
    }
}
