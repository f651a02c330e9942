import Foundation
import DataSpecs

/// A task lookup failed: unknown name, bad option, or a task that needs objects a name cannot give.
public struct TaskError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Finds gold tasks by the names recipes use.
public enum TaskRegistry {
    /// Every task name `task(named:)` knows.
    public static var names: [String] {
        ["contrastive_distillation", "math_expressions", "reward_model_gold", "unique_nouns", "word_collector", "world"]
    }

    /// The task called `name`, configured by string `options` (each task documents its keys).
    ///
    /// `math_expressions` takes `max_depth` (1...4), `max_operand` (1...99), `slip_rate` (0...1).
    /// `world` takes `categories`, a comma-separated subset of reasoning, instruction_following,
    /// safety, style (default: all four).
    /// `contrastive_distillation` built from a name has prompts and demonstrations (sentence
    /// prefixes of the Debian fortunes corpus) but no reward: its R* needs two scoring models, so
    /// construct `ContrastiveDistillationTask(large:small:codec:sentences:)` for rewards.
    public static func task(named name: String, options: [String: String] = [:]) throws -> any GoldTask {
        switch name {
        case "word_collector":
            try checkKeys(options, allowed: [], task: name)
            return WordCollectorTask()
        case "unique_nouns":
            try checkKeys(options, allowed: [], task: name)
            return UniqueNounsTask()
        case "math_expressions":
            try checkKeys(options, allowed: ["max_depth", "max_operand", "slip_rate"], task: name)
            return MathExpressionsTask(
                maxDepth: try int(options, "max_depth", default: 2, range: 1...4, task: name),
                maxOperand: try int(options, "max_operand", default: 9, range: 1...99, task: name),
                slipRate: try probability(options, "slip_rate", default: 0.2, task: name))
        case "world":
            try checkKeys(options, allowed: ["categories"], task: name)
            return WorldTask(categories: try categories(options["categories"]))
        case "contrastive_distillation":
            try checkKeys(options, allowed: [], task: name)
            do {
                return ContrastiveDistillationTask(sentences: try Corpus.sentences())
            } catch {
                throw TaskError("task 'contrastive_distillation': \(error)")
            }
        case "reward_model_gold":
            throw TaskError("task 'reward_model_gold' is built from a stage's 'gold_reward_model' and 'gold_prompts' inputs "
                + "(RewardModelGoldTask), not from its name")
        default:
            throw TaskError("unknown task '\(name)'" + suggestion(for: name, among: names)
                + "; known tasks: " + names.joined(separator: ", "))
        }
    }

    /// ` (did you mean 'x'?)` for the closest of `candidates` within a third of its length, else "".
    static func suggestion(for name: String, among candidates: [String]) -> String {
        let scored = candidates.map { ($0, TaskText.editDistance(name.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, best.0.count / 3) else { return "" }
        return " (did you mean '\(best.0)'?)"
    }

    static func categories(_ raw: String?) throws -> [WorldCategory] {
        guard let raw else { return WorldCategory.allCases }
        let known = WorldCategory.allCases.map(\.rawValue)
        return try raw.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let c = WorldCategory(rawValue: name) else {
                throw TaskError("task 'world': unknown category '\(name)'" + suggestion(for: name, among: known)
                    + "; known: " + known.joined(separator: ", "))
            }
            return c
        }
    }

    static func checkKeys(_ options: [String: String], allowed: Set<String>, task: String) throws {
        for key in options.keys.sorted() where !allowed.contains(key) {
            let hint = allowed.isEmpty ? "it takes no options"
                : "allowed: " + allowed.sorted().joined(separator: ", ")
            throw TaskError("task '\(task)': unknown option '\(key)'"
                + suggestion(for: key, among: allowed.sorted()) + "; " + hint)
        }
    }

    static func int(_ options: [String: String], _ key: String, default value: Int,
                    range: ClosedRange<Int>, task: String) throws -> Int {
        guard let raw = options[key] else { return value }
        guard let v = Int(raw), range.contains(v) else {
            throw TaskError("task '\(task)': option '\(key)' is '\(raw)', expected an integer in "
                + "\(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    static func probability(_ options: [String: String], _ key: String, default value: Double,
                            task: String) throws -> Double {
        guard let raw = options[key] else { return value }
        guard let v = Double(raw), v >= 0, v <= 1 else {
            throw TaskError("task '\(task)': option '\(key)' is '\(raw)', expected a number in 0...1")
        }
        return v
    }
}
