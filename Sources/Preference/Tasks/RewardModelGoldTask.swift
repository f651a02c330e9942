import Foundation
import Randomness

/// A reward model standing in for the gold annotator on real prompts (D2PO §5, its realistic setting:
/// a reward model — there Eurus RM, here one trained on real preference pairs — is R*, and the
/// prompts are real instructions). R*(x, y) is the model's score; the prompts are the `pool` (e.g.
/// AlpacaEval's instructions), split one in ten into held-out by stable hash of the text, as the
/// synthetic tasks split theirs, so training prompts never reach the held-out evaluation.
public struct RewardModelGoldTask: GoldTask, @unchecked Sendable {
    public let name = "reward_model_gold"
    let scorer: RewardModel
    let pool: [Prompt]
    /// The scorer keeps activation buffers; rewards are computed one at a time.
    let lock = NSLock()

    /// Throws when the pool has no prompt of one of the splits (too small a pool to train and evaluate on).
    public init(scorer: RewardModel, pool: [Prompt]) throws {
        guard scorer.model.config.maxSeqLen >= 2 else { throw TaskError("task 'reward_model_gold': the reward model's window is under 2 tokens") }
        self.scorer = scorer
        self.pool = pool
        for split in [TaskSplit.train, .heldOut] where Self.split(pool, split).isEmpty {
            throw TaskError("task 'reward_model_gold': none of the \(pool.count) gold prompts falls in the \(split.rawValue) split "
                + "(one in ten is held out by hash); give 'gold_prompts' more prompts")
        }
    }

    static func split(_ pool: [Prompt], _ split: TaskSplit) -> [Prompt] {
        pool.filter { TaskText.isHeldOut($0.lastUserText) == (split == .heldOut) }
    }

    /// `count` prompts of the split in a seeded order; a split smaller than `count` is repeated in that order.
    public func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] {
        let part = Self.split(pool, split)
        guard count > 0 else { return [] }
        var rng = SeededRandom(seed: seed).derived("reward_model_gold/" + split.rawValue)
        let order = Array(part.indices).shuffled(using: &rng)
        return (0..<count).map { part[order[$0 % order.count]] }
    }

    public func reward(prompt: Prompt, response: String) -> Double {
        lock.lock()
        defer { lock.unlock() }
        // `scores` throws only for a window under 2 tokens, refused by `init`; pairs are cut to fit the window.
        do { return try scorer.scores([scorer.pair(prompt, response)])[0] } catch {
            preconditionFailure("reward_model_gold: \(error)")
        }
    }

    /// No demonstrations: a reward model gives scores, not responses (use an `sft` or `pretrained` policy).
    public func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] { [] }
}
