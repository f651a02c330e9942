import Randomness

/// Math Expressions (D2PO §4): solve a random expression tree step by step.
///
/// Prompt: the fully parenthesised expression followed by ` =`, e.g. `((5 + 1) * (3 + 8)) =`.
/// Gold response: `goldSteps` joined by ` = `, e.g. `(6 * (3 + 8)) = (6 * 11) = 66`.
///
/// Reward, following the paper's Table 8 (all six rows reproduce):
/// 1. Only the response's first line counts (text from the first newline on is ignored).
/// 2. It is split at `=` into steps; each step is trimmed and its inner whitespace runs
///    collapsed to one space; empty steps at the end (a trailing `=`) are dropped.
/// 3. R* = −Σᵢ editDistance(responseStepᵢ, goldStepᵢ) over character Levenshtein distance,
///    where a missing response step costs its gold step's length and an extra response step
///    costs its own length. A perfect chain scores 0.
public struct MathExpressionsTask: GoldTask {
    public let name = "math_expressions"
    /// Most operator levels in a prompt's tree (the brief's default: 2).
    public var maxDepth: Int
    /// Operands are drawn from 1...maxOperand.
    public var maxOperand: Int
    /// Probability that a demonstration contains one arithmetic slip (carried through later steps).
    public var slipRate: Double

    public init(maxDepth: Int = 2, maxOperand: Int = 9, slipRate: Double = 0.2) {
        self.maxDepth = maxDepth
        self.maxOperand = maxOperand
        self.slipRate = slipRate
    }

    public func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] {
        expressions(count: count, split: split, seed: seed).map { Prompt($0.text + " =", source: name) }
    }

    func expressions(count: Int, split: TaskSplit, seed: UInt64) -> [MathExpression] {
        var byText: [String: MathExpression] = [:]
        let texts = TaskText.drawSplit(count: count, split: split, seed: seed, label: name) { rng in
            let e = MathExpression.random(maxDepth: maxDepth, maxOperand: maxOperand, rng: &rng)
            byText[e.text] = e
            return e.text
        }
        return texts.compactMap { byText[$0] }
    }

    public func reward(prompt: Prompt, response: String) -> Double {
        guard let expression = MathExpression.parse(prompt.lastUserText) else { return -Double(Self.steps(response).joined().count) }
        return -Double(Self.distance(steps: Self.steps(response), gold: expression.goldSteps))
    }

    /// The scored steps of a response (rules 1 and 2 above).
    public static func steps(_ response: String) -> [String] {
        let firstLine = response.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
        var steps = firstLine.split(separator: "=", omittingEmptySubsequences: false).map { part in
            part.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
        }
        while let last = steps.last, last.isEmpty { steps.removeLast() }
        return steps
    }

    /// Σ edit distance step by step; missing or extra steps count their full length (rule 3).
    public static func distance(steps: [String], gold: [String]) -> Int {
        var total = 0
        for i in 0..<max(steps.count, gold.count) {
            total += TaskText.editDistance(i < steps.count ? steps[i] : "", i < gold.count ? gold[i] : "")
        }
        return total
    }

    public func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] {
        let exprs = expressions(count: count, split: .train, seed: seed)
        var rng = SeededRandom(seed: seed).derived("math/slips")
        return exprs.map { e in
            var steps = e.goldSteps
            if rng.nextDouble() < slipRate { steps = Self.withSlip(e, rng: &rng) }
            return (Prompt(e.text + " =", source: name), steps.joined(separator: " = "))
        }
    }

    /// The gold chain with one step's result off by ±1 or ±2, the error carried into later steps.
    static func withSlip(_ e: MathExpression, rng: inout SeededRandom) -> [String] {
        let step = rng.nextInt(max(1, e.operationCount))
        let magnitude = 1 + rng.nextInt(2)
        return e.chain(slipAt: step, delta: rng.nextDouble() < 0.5 ? magnitude : -magnitude)
    }
}
