import Foundation
import Randomness

/// A binary expression tree over integers with + - *, and its step-by-step gold solution.
public indirect enum MathExpression: Equatable, Sendable {
    case number(Int)
    case binary(Character, MathExpression, MathExpression)

    /// Fully parenthesised text: `((5 + 1) * (3 + 8))`; a negative number prints as `-4`.
    public var text: String {
        switch self {
        case .number(let n): return String(n)
        case .binary(let op, let l, let r): return "(\(l.text) \(op) \(r.text))"
        }
    }

    /// The value, with wrapping arithmetic (small operands never overflow).
    public var value: Int {
        switch self {
        case .number(let n): return n
        case .binary(let op, let l, let r): return Self.apply(op, l.value, r.value)
        }
    }

    static func apply(_ op: Character, _ a: Int, _ b: Int) -> Int {
        switch op {
        case "+": return a &+ b
        case "-": return a &- b
        default: return a &* b
        }
    }

    /// Operator levels: 0 for a number, 1 for `(a + b)`, 2 for `((a + b) * c)`.
    public var height: Int {
        switch self {
        case .number: return 0
        case .binary(_, let l, let r): return 1 + max(l.height, r.height)
        }
    }

    /// A random tree of at most `maxDepth` operator levels over operands 1...`maxOperand`.
    ///
    /// The root is always an operation; below it each child is a sub-tree with probability 1/2
    /// while depth remains, else a number.
    public static func random(maxDepth: Int, maxOperand: Int, rng: inout SeededRandom) -> MathExpression {
        func child(_ depthLeft: Int) -> MathExpression {
            if depthLeft > 0 && rng.nextDouble() < 0.5 { return node(depthLeft) }
            return .number(1 + rng.nextInt(max(1, maxOperand)))
        }
        func node(_ depthLeft: Int) -> MathExpression {
            let op = Array("+-*")[rng.nextInt(3)]
            let l = child(depthLeft - 1)
            let r = child(depthLeft - 1)
            return .binary(op, l, r)
        }
        return node(max(1, maxDepth))
    }

    /// The gold chain of thought: the expression after each single reduction, ending in the value.
    ///
    /// Operations are reduced in order of their height in the ORIGINAL tree (innermost first),
    /// left to right among equal heights. This reproduces every gold chain of the D2PO paper's
    /// Table 8, e.g. `(((9 + 7) * (8 * 1)) - (7 + 8))` reduces `(7 + 8)` before `(16 * 8)`.
    public var goldSteps: [String] { chain(slipAt: nil, delta: 0) }

    /// The chain of thought, with step `slipAt` (if any) off by `delta` and the error carried on.
    func chain(slipAt: Int?, delta: Int) -> [String] {
        var order: [(height: Int, position: Int, path: [Bool])] = []
        var leafCounter = 0
        func collect(_ e: MathExpression, _ path: [Bool]) {
            switch e {
            case .number: leafCounter += 1
            case .binary(_, let l, let r):
                let position = leafCounter
                collect(l, path + [false])
                collect(r, path + [true])
                order.append((e.height, position, path))
            }
        }
        collect(self, [])
        order.sort { ($0.height, $0.position) < ($1.height, $1.position) }
        var current = self
        return order.enumerated().map { k, item in
            current = current.reducing(at: item.path[...], offset: k == slipAt ? delta : 0)
            return current.text
        }
    }

    /// Operations in the tree (the number of gold steps).
    public var operationCount: Int {
        switch self {
        case .number: return 0
        case .binary(_, let l, let r): return 1 + l.operationCount + r.operationCount
        }
    }

    /// This tree with the operation at `path` (false = left) replaced by its value.
    func reducing(at path: ArraySlice<Bool>, offset: Int = 0) -> MathExpression {
        guard case .binary(let op, let l, let r) = self else { return self }
        guard let step = path.first else { return .number(value &+ offset) }
        let rest = path.dropFirst()
        return step ? .binary(op, l, r.reducing(at: rest, offset: offset))
                    : .binary(op, l.reducing(at: rest, offset: offset), r)
    }

    /// Parses a fully parenthesised expression as `text` prints it; a trailing `=` is allowed.
    ///
    /// Returns nil for anything else (the reward then treats every response step as extra).
    public static func parse(_ source: String) -> MathExpression? {
        var chars = Array(source.trimmingCharacters(in: .whitespacesAndNewlines))
        if chars.last == "=" { chars.removeLast() }
        var i = 0
        func skipSpaces() { while i < chars.count && chars[i] == " " { i += 1 } }
        func operand() -> MathExpression? {
            skipSpaces()
            guard i < chars.count else { return nil }
            if chars[i] == "(" {
                i += 1
                guard let l = operand() else { return nil }
                skipSpaces()
                guard i < chars.count, "+-*".contains(chars[i]) else { return nil }
                let op = chars[i]; i += 1
                guard let r = operand() else { return nil }
                skipSpaces()
                guard i < chars.count, chars[i] == ")" else { return nil }
                i += 1
                return .binary(op, l, r)
            }
            var digits = ""
            if chars[i] == "-" { digits = "-"; i += 1 }
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { digits.append(chars[i]); i += 1 }
            return Int(digits).map { .number($0) }
        }
        guard let e = operand() else { return nil }
        skipSpaces()
        return i == chars.count ? e : nil
    }
}
