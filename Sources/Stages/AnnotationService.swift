import Foundation
import Preference

/// PrefLab's gold annotator as a JSON-lines service (`preflab annotate --task T`), so that an engine's script
/// can buy gold labels from the same Swift code, under the same budget, as the embedded trainers.
///
/// Request: `{"prompt": {"messages": [{"role": "user", "content": ...}]}, "a": ..., "b": ...}`.
/// Reply: `{"preferred": 0|1, "used": N, "remaining": R|null}`, or `{"error": ..., "budget_exhausted": true|false}`.
public final class AnnotationService {
    private let annotator: GoldAnnotator

    private struct Request: Decodable {
        var prompt: Prompt
        var a: String
        var b: String
    }

    /// `task`: a gold task PrefLab builds from its name alone (Contrastive Distillation needs scoring models,
    /// which a stage provides, and is refused here).
    public init(task: String, budget: Int?, seed: UInt64) throws {
        annotator = GoldAnnotator(task: try TaskRegistry.task(named: task), budget: budget, seed: seed)
    }

    /// The reply line to one request line.
    public func reply(_ line: String) -> String {
        do {
            let r = try JSONDecoder().decode(Request.self, from: Data(line.utf8))
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
