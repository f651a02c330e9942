/// Which part of a task's prompt space to draw from; train and held-out never overlap.
public enum TaskSplit: String, Codable, Sendable {
    case train
    case heldOut = "held_out"
}

/// A task whose gold reward R* is known: a prompt generator plus a scoring function.
///
/// The D2PO paper's four tasks (and the simulated world's categories) implement this.
public protocol GoldTask: Sendable {
    /// The name recipes use (`word_collector`, `unique_nouns`, `math_expressions`, `contrastive_distillation`).
    var name: String { get }
    /// `count` prompts of `split`, drawn deterministically from `seed`.
    func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt]
    /// The gold reward R*(prompt, response); higher is better.
    func reward(prompt: Prompt, response: String) -> Double
    /// Supervised demonstrations (prompt, response) that teach a from-scratch policy the task's
    /// format with fluent-enough but not optimal answers: the SFT data.
    func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)]
}

/// Which of two responses an annotator prefers.
public enum PreferenceLabel: Int, Codable, Sendable {
    case first = 0
    case second = 1
}

/// Labels pairs of responses: the gold annotator of a task, a simulated noisy one, or an external judge.
public protocol Annotator: Sendable {
    /// Prefers `a` or `b` for `prompt`. Gold annotators count each call against their budget.
    func label(prompt: Prompt, _ a: String, _ b: String) throws -> PreferenceLabel
}
