import Foundation
import Preference

/// PrefLab's gold annotator as a JSON-lines service (`preflab annotate --task T`), so that an engine's script
/// can buy gold labels from the same Swift code, under the same budget, as the embedded trainers.
///
/// Request: `{"prompt": {"messages": [{"role": "user", "content": ...}]}, "a": ..., "b": ...}`.
/// Reply: `{"preferred": 0|1, "used": N, "remaining": R|null}`, or `{"error": ..., "budget_exhausted": true|false}`.
///
/// Contrastive Distillation's scoring models are the stage's, which the engine holds: its requests carry each
/// response's mean log-likelihood under them, `"log_likelihoods": {"a": [large, small], "b": [large, small]}`, computed
/// by the engine's script with PrefLab's rule (trl_text.py's `response_logprob_ids`); R*, ties and budget are PrefLab's.
public final class AnnotationService {
    private let annotator: GoldAnnotator
    /// Contrastive Distillation's scores as the requests bring them (nil for the tasks built from their name).
    private let engineScores: EngineLogLikelihoods?

    private struct Request: Decodable {
        var prompt: Prompt
        var a: String
        var b: String
        var logLikelihoods: [String: [Double]]?

        enum CodingKeys: String, CodingKey { case prompt, a, b, logLikelihoods = "log_likelihoods" }
    }

    /// `task`: a gold task PrefLab builds from its name alone, or `contrastive_distillation` scored by the engine.
    public init(task: String, budget: Int?, seed: UInt64) throws {
        if task == "contrastive_distillation" {
            let scores = EngineLogLikelihoods { _ in throw TaskError("preflab annotate: each request brings its log_likelihoods") }
            engineScores = scores
            annotator = GoldAnnotator(task: ContrastiveDistillationTask(scorers: scores, sentences: []), budget: budget, seed: seed)
        } else {
            engineScores = nil
            annotator = GoldAnnotator(task: try TaskRegistry.task(named: task), budget: budget, seed: seed)
        }
    }

    /// Keeps a Contrastive Distillation request's scores for its two responses; refuses one without them.
    private func record(_ r: Request) throws {
        guard let engineScores else { return }
        for (key, text) in [("a", r.a), ("b", r.b)] {
            guard let pair = r.logLikelihoods?[key], pair.count == 2 else {
                throw TaskError("contrastive_distillation needs \"log_likelihoods\": {\"\(key)\": [large, small], ...}")
            }
            engineScores.insert(.init(prompt: r.prompt, response: text), large: pair[0], small: pair[1])
        }
    }

    /// The reply line to one request line.
    public func reply(_ line: String) -> String {
        do {
            let r = try JSONDecoder().decode(Request.self, from: Data(line.utf8))
            try record(r)
            let label = try annotator.label(prompt: r.prompt, r.a, r.b)
            return "{\"preferred\":\(label.rawValue),\"remaining\":\(annotator.remaining.map(String.init) ?? "null"),\"used\":\(annotator.used)}"
        } catch let error as BudgetExhausted {
            return Self.error("\(error)", exhausted: true)
        } catch {
            return Self.error("bad request: \(error)", exhausted: false)
        }
    }

    private static func error(_ message: String, exhausted: Bool) -> String {
        let encoded = (try? String(decoding: JSONEncoder().encode(message), as: UTF8.self)) ?? "\"error\""
        return "{\"budget_exhausted\":\(exhausted),\"error\":\(encoded)}"
    }
}
