import ArgumentParser
import Foundation
import Stages

/// `preflab annotate`: the gold annotator of a task as a JSON-lines process on stdin/stdout, for engine scripts.
struct Annotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a task's gold annotator as JSON lines on stdin/stdout (used by delegated engines).",
        discussion: """
        Each input line {"prompt": {"messages": [...]}, "a": TEXT, "b": TEXT} gets one output line
        {"preferred": 0|1, "used": N, "remaining": R|null}, or {"error": ..., "budget_exhausted": BOOL}.
        Each distinct pair costs one label of the budget; asking again is free. For contrastive_distillation each
        request also carries "log_likelihoods": {"a": [LARGE, SMALL], "b": [LARGE, SMALL]}, the responses' mean
        log-likelihoods under the stage's two scorers, computed by the engine's script.
        """)

    @Option(help: "The gold task (word_collector, unique_nouns, math_expressions, contrastive_distillation).")
    var task: String

    @Option(help: "Most distinct pairs to label; unlimited when absent.")
    var budget: Int?

    @Option(help: "Seed of the tie-breaking coin.")
    var seed: UInt64 = 0

    func run() throws {
        let service = try AnnotationService(task: task, budget: budget, seed: seed)
        while let line = readLine(strippingNewline: true) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            FileHandle.standardOutput.write(Data((service.reply(line) + "\n").utf8))
        }
    }
}
