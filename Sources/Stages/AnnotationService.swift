import Foundation
import Preference

/// PrefLab's gold annotator as a JSON-lines service (`preflab annotate --task T`), so that an engine's script
/// can buy gold labels from the same Swift code, under the same budget, as the embedded trainers.
///
/// Request: `{"prompt": {"messages": [{"role": "user", "content": ...}]}, "a": ..., "b": ...}`.
/// Reply: `{"preferred": 0|1, "used": N, "remaining": R|null}`, or `{"error": ..., "budget_exhausted": true|false}`.
/// A probe request `{"probe": {"step": K, "total": T, "pairs": [REQUEST...], "judges": {NAME: [[a, b]...]}}}` (with
/// `--probe-every`) is scored by PrefLab's `AccuracyProbe` — the engine's judges, PrefLab's R* and rule — and answered
/// `{"probe": {"probe_<judge>": ACC, "probe_pairs": N, ...}}` at a window's end, `{"probe": {}}` otherwise.
///
/// Contrastive Distillation's scoring models are the stage's, which the engine holds: its requests carry each
/// response's mean log-likelihood under them, `"log_likelihoods": {"a": [large, small], "b": [large, small]}`, computed
/// by the engine's script with PrefLab's rule (trl_text.py's `response_logprob_ids`); R*, ties and budget are PrefLab's.
public final class AnnotationService {
    private let annotator: GoldAnnotator
    /// Contrastive Distillation's scores as the requests bring them (nil for the tasks built from their name).
    private let engineScores: EngineLogLikelihoods?

    /// PrefLab's accuracy probe of the engine's judges (D2PO Fig. 6), when `probeEvery` was given.
    private let probe: AccuracyProbe?

    private struct Request: Decodable {
        var prompt: Prompt
        var a: String
        var b: String
        var logLikelihoods: [String: [Double]]?

        enum CodingKeys: String, CodingKey { case prompt, a, b, logLikelihoods = "log_likelihoods" }
    }

    /// One training step's probe: its pairs, each judge's (R(x, a), R(x, b)) per pair, and the step (1-based) and
    /// step count that decide whether a window ends (`AccuracyProbe.report`).
    private struct ProbeRequest: Decodable {
        var step: Int
        var total: Int
        var pairs: [Request]
        var judges: [String: [[Double]]]
    }

    private struct Envelope: Decodable { var probe: ProbeRequest? }

    /// `task`: a gold task PrefLab builds from its name alone, or `contrastive_distillation` scored by the engine.
    /// `probeEvery`: the probe's window in steps (its gold rewards never count against the budget).
    public init(task: String, budget: Int?, seed: UInt64, probeEvery: Int? = nil) throws {
        let gold: any GoldTask
        if task == "contrastive_distillation" {
            let scores = EngineLogLikelihoods { _ in throw TaskError("preflab annotate: each request brings its log_likelihoods") }
            engineScores = scores
            gold = ContrastiveDistillationTask(scorers: scores, sentences: [])
        } else {
            engineScores = nil
            gold = try TaskRegistry.task(named: task)
        }
        annotator = GoldAnnotator(task: gold, budget: budget, seed: seed)
        probe = probeEvery.map { AccuracyProbe(task: gold, every: $0) }
    }

    /// Records a step's probe and replies `{"probe": {...}}`: the window's `probe_*` values when it ends, else empty.
    private func probeReply(_ r: ProbeRequest) throws -> String {
        guard let probe else { throw TaskError("this annotator was started without --probe-every") }
        var judges: [String: [(Double, Double)]] = [:]
        for (name, scores) in r.judges {
            guard scores.count == r.pairs.count, scores.allSatisfy({ $0.count == 2 }) else {
                throw TaskError("judge \(name) has \(scores.count) score pairs for \(r.pairs.count) pairs")
            }
            judges[name] = scores.map { ($0[0], $0[1]) }
        }
        try r.pairs.forEach(record)
        probe.record(r.pairs.map { AccuracyProbe.Pair(prompt: $0.prompt, first: $0.a, second: $0.b) }, judges: judges)
        let values = probe.report(step: r.step, total: r.total)
        let json = try JSONSerialization.data(withJSONObject: ["probe": values], options: [.sortedKeys])
        return String(decoding: json, as: UTF8.self)
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
            if let probe = try JSONDecoder().decode(Envelope.self, from: Data(line.utf8)).probe {
                return try probeReply(probe)
            }
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
