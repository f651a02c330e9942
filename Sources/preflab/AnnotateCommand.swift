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
        log-likelihoods under the stage's two scorers, computed by the engine's script. With --probe-every, a line
        {"probe": {"step": K, "total": T, "pairs": [...], "judges": {NAME: [[a, b], ...]}}} is scored by PrefLab's
        accuracy probe (never against the budget) and answered {"probe": {...}}: the window's probe_* values at its end.
        """)

    @Option(help: "The gold task (word_collector, unique_nouns, math_expressions, contrastive_distillation).")
    var task: String

    @Option(help: "Most distinct pairs to label; unlimited when absent.")
    var budget: Int?

    @Option(help: "Seed of the tie-breaking coin.")
    var seed: UInt64 = 0

    @Option(help: "Serve PrefLab's accuracy probe too (D2PO Fig. 6): its window in steps.")
    var probeEvery: Int?

    func run() throws {
        let service = try AnnotationService(task: task, budget: budget, seed: seed, probeEvery: probeEvery)
        while let line = readLine(strippingNewline: true) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            FileHandle.standardOutput.write(Data((service.reply(line) + "\n").utf8))
        }
    }
}
