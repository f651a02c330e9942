import ArgumentParser
import Foundation
import Pipeline
import RecipeSpec

/// `preflab verdicts`: judges a recipe's `claims:` on its committed results and writes findings.md,
/// without a store.
struct Verdicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge a recipe's claims on <results>/<recipe name>/results.json and write findings.md (runs nothing).",
        discussion: "The rule (a t-test over runs, α = 0.05, three outcomes) is in docs/verdicts.md. `run` and `table` "
            + "write findings.md too, from the table they build. With --readme, the recipe's row of that Markdown "
            + "table (the row whose command is `preflab run <recipe file>`) gets the summary as its last column.")

    @OptionGroup var recipe: RecipeOptions

    @Option(help: "The results folder: reads and writes <results>/<recipe name>/.")
    var results: String = "Results"

    @Option(help: "A README whose table row for this recipe gets the verdict summary as its last column.")
    var readme: String?

    func run() throws {
        let resolved = try loadRecipe(recipe)
        guard !resolved.claims.isEmpty || resolved.findingsNote != nil else {
            throw ValidationError("recipe '\(resolved.name)' has neither claims: nor findings_note:")
        }
        let folder = URL(fileURLWithPath: results)
        let json = folder.appendingPathComponent(resolved.name).appendingPathComponent("results.json")
        let report = try VerdictsReport.judge(claims: resolved.claims, note: resolved.findingsNote, resultsJSON: json)
        try printAndWrite(report, to: folder)
        if let readme {
            let url = URL(fileURLWithPath: readme)
            let text = try String(contentsOf: url, encoding: .utf8)
            guard let updated = ReadmeVerdicts.replacing(in: text, recipeFile: recipe.recipe, summary: report.summary) else {
                throw ValidationError("\(readme): no table row whose command is `preflab run \(ReadmeVerdicts.relative(recipe.recipe))`")
            }
            try FileWriter.write(updated, to: url)
            print("verdict column of \(readme) updated")
        }
    }
}

/// The README's results table: one row per recipe, `| name | `preflab run Recipes/x.yaml` | time | verdict |`.
enum ReadmeVerdicts {
    /// The recipe path as README writes it (from `Recipes/`).
    static func relative(_ file: String) -> String {
        guard let r = file.range(of: "Recipes/", options: .backwards) else { return file }
        return String(file[r.lowerBound...])
    }

    /// The row's cells (a `\|` inside a cell is not a separator); nil when `line` is not a table row.
    static func cells(_ line: String) -> [String]? {
        guard line.hasPrefix("|"), line.hasSuffix("|") else { return nil }
        var out: [String] = [], cell = "", previous: Character = " "
        for ch in line.dropFirst().dropLast() {
            if ch == "|" && previous != "\\" { out.append(cell); cell = "" } else { cell.append(ch) }
            previous = ch
        }
        out.append(cell)
        return out.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The row for `recipeFile`: its index and its verdict (last) cell.
    static func row(in text: String, recipeFile: String) -> (index: Int, verdict: String)? {
        let command = "`preflab run \(relative(recipeFile))`"
        for (i, line) in text.components(separatedBy: "\n").enumerated() {
            if let c = cells(line), c.count >= 4, c[1] == command { return (i, c[c.count - 1]) }
        }
        return nil
    }

    /// `text` with the recipe's row ending in `summary`; nil when no row names the recipe.
    static func replacing(in text: String, recipeFile: String, summary: String) -> String? {
        guard let (index, _) = row(in: text, recipeFile: recipeFile) else { return nil }
        var lines = text.components(separatedBy: "\n")
        var c = cells(lines[index])!
        c[c.count - 1] = summary.replacingOccurrences(of: "|", with: "\\|")
        lines[index] = "| " + c.joined(separator: " | ") + " |"
        return lines.joined(separator: "\n")
    }
}

/// Writes `findings.md` for a recipe with claims or a findings note, from the table just built (`run`, `table`).
func writeVerdicts(_ recipe: ResolvedRecipe, table: TableOutput, results: URL) throws {
    guard !recipe.claims.isEmpty || recipe.findingsNote != nil else { return }
    let source = results.appendingPathComponent(recipe.name).appendingPathComponent("results.json").path
    try printAndWrite(try VerdictsReport.judge(claims: recipe.claims, note: recipe.findingsNote, table: table, source: source),
                      to: results)
}

private func printAndWrite(_ report: VerdictsReport, to folder: URL) throws {
    let url = try report.write(to: folder)
    for v in report.verdicts {
        let p = v.comparison.map { String(format: "p=%.3g", $0.p) } ?? "no test"
        print("\(v.claim.id): \(v.outcome.rawValue) (\(p); \(v.reason))")
    }
    print("findings written to \(url.path)")
}
