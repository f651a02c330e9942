import ArgumentParser
import Foundation
import Pipeline
import RecipeSpec

/// `preflab verdicts`: judges a recipe's `claims:` on its committed results, without a store.
struct Verdicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge a recipe's claims on <results>/<recipe name>/results.json and write verdicts.md (runs nothing).",
        discussion: "The rule (a t-test over runs, α = 0.05, three outcomes) is in docs/verdicts.md. `run` and `table` "
            + "write verdicts.md too, from the table they build.")

    @OptionGroup var recipe: RecipeOptions

    @Option(help: "The results folder: reads and writes <results>/<recipe name>/.")
    var results: String = "Results"

    func run() throws {
        let resolved = try loadRecipe(recipe)
        guard !resolved.claims.isEmpty else {
            throw ValidationError("recipe '\(resolved.name)' has no claims: block")
        }
        let folder = URL(fileURLWithPath: results)
        let json = folder.appendingPathComponent(resolved.name).appendingPathComponent("results.json")
        let report = try VerdictsReport.judge(claims: resolved.claims, resultsJSON: json)
        try printAndWrite(report, to: folder)
    }
}

/// Writes `verdicts.md` for a recipe with claims from the table just built (`run`, `table`).
func writeVerdicts(_ recipe: ResolvedRecipe, table: TableOutput, results: URL) throws {
    guard !recipe.claims.isEmpty else { return }
    let source = results.appendingPathComponent(recipe.name).appendingPathComponent("results.json").path
    try printAndWrite(try VerdictsReport.judge(claims: recipe.claims, table: table, source: source), to: results)
}

private func printAndWrite(_ report: VerdictsReport, to folder: URL) throws {
    let url = try report.write(to: folder)
    for v in report.verdicts {
        let p = v.comparison.map { String(format: "p=%.3g", $0.p) } ?? "no test"
        print("\(v.claim.id): \(v.outcome.rawValue) (\(p); \(v.reason))")
    }
    print("verdicts written to \(url.path)")
}
