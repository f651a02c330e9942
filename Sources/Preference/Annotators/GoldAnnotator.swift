
/// Labels pairs by a task's gold reward R*: the "gold" annotator of D2PO.
///
/// The response with the higher R* wins. Ties are broken by a coin seeded from `seed` and the
/// pair's content, so a tie gets the same label whatever the call order and whichever response
/// comes first. Each distinct pair (in either order) costs one label; asking again is free and
/// gives the same answer; a new pair past `budget` throws `BudgetExhausted`.
public final class GoldAnnotator: Annotator {
    public let task: any GoldTask
    let ledger: LabelLedger
    let seed: UInt64

    /// `budget`: the most distinct pairs this annotator will label (nil: unlimited).
    public init(task: any GoldTask, budget: Int?, seed: UInt64 = 0) {
        self.task = task
        self.ledger = LabelLedger(budget: budget)
        self.seed = seed
    }

    /// Distinct pairs labelled so far.
    public var used: Int { ledger.used }
    /// The budget (nil: unlimited).
    public var budget: Int? { ledger.budget }
    /// Labels left before `BudgetExhausted` (nil: unlimited).
    public var remaining: Int? { budget.map { max(0, $0 - used) } }

    public func label(prompt: Prompt, _ a: String, _ b: String) throws -> PreferenceLabel {
        let key = LabelPairKey(prompt: prompt, a, b)
        return try ledger.label(key) {
            let low = task.reward(prompt: prompt, response: key.low)
            let high = task.reward(prompt: prompt, response: key.high)
            if low != high { return low > high }
            var coin = key.rng(seed: seed)
            return coin.nextDouble() < 0.5
        }
    }
}
