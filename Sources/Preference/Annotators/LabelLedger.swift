import Foundation
import Randomness

/// An annotator was asked for more new labels than its budget allows.
public struct BudgetExhausted: Error, CustomStringConvertible, Equatable {
    /// The budget that ran out.
    public let budget: Int
    public var description: String { "annotation budget of \(budget) labels exhausted" }
}

/// The content of a labelling request with the two responses in a canonical order, so that
/// (a, b) and (b, a) are the same pair.
struct LabelPairKey: Hashable {
    let prompt: Prompt
    let low: String
    let high: String
    /// Whether the request's `a` is `high` (the order was swapped to canonical form).
    let swapped: Bool

    init(prompt: Prompt, _ a: String, _ b: String) {
        self.prompt = prompt
        swapped = a > b
        (low, high) = swapped ? (b, a) : (a, b)
    }

    static func == (l: LabelPairKey, r: LabelPairKey) -> Bool { l.prompt == r.prompt && l.low == r.low && l.high == r.high }
    func hash(into h: inout Hasher) { h.combine(prompt); h.combine(low); h.combine(high) }

    /// A generator seeded from `seed` and the pair's content (not the call order or response order).
    func rng(seed: UInt64) -> SeededRandom {
        let text = prompt.messages.map { $0.role + ":" + $0.content }.joined(separator: "\u{1}")
        let h = TaskText.stableHash(text + "\u{2}" + low + "\u{3}" + high)
        return SeededRandom(seed: seed ^ h)
    }
}

/// Thread-safe label cache and budget shared by the annotators: a pair seen before is answered
/// from the cache for free (the same label); a new pair costs one unit of budget.
final class LabelLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [LabelPairKey: Bool] = [:]  // canonical pair -> "low is preferred"
    private var count = 0
    let budget: Int?

    init(budget: Int?) { self.budget = budget }

    var used: Int { lock.lock(); defer { lock.unlock() }; return count }

    /// The cached or newly computed label for `key`; `compute` says whether `low` wins.
    func label(_ key: LabelPairKey, compute: () throws -> Bool) throws -> PreferenceLabel {
        lock.lock()
        if let lowWins = cache[key] {
            lock.unlock()
            return Self.label(lowWins: lowWins, swapped: key.swapped)
        }
        if let budget, count >= budget {
            lock.unlock()
            throw BudgetExhausted(budget: budget)
        }
        count += 1  // reserve before computing so concurrent callers cannot overspend
        lock.unlock()
        let lowWins: Bool
        do { lowWins = try compute() } catch {
            lock.lock(); count -= 1; lock.unlock()
            throw error
        }
        lock.lock(); cache[key] = lowWins; lock.unlock()
        return Self.label(lowWins: lowWins, swapped: key.swapped)
    }

    static func label(lowWins: Bool, swapped: Bool) -> PreferenceLabel {
        // Unswapped: a == low, so low winning means .first. Swapped: a == high.
        lowWins != swapped ? .first : .second
    }
}
