import Foundation

// IFEval (Zhou et al. 2023, arXiv:2311.07911): verifiable instructions, checked as Google's reference
// checker does (google-research `instruction_following_eval`, as vendored in lm-eval 0.4.13).
//
// API (pure Swift, no Python on the run path):
//   let items = try IFEval.load(url)                 // input_data.jsonl -> [IFEvalItem]
//   let result = IFEval.score(item, response)        // -> IFEvalResult (strict and loose, per instruction)
//   let metrics = IFEval.summary(results)            // -> IFEvalMetrics (prompt/instruction accuracy, SE)
//
// Strict: the response as given. Loose: an instruction counts as followed if any of eight variants
// follows it — the response, without its first line, without its last line, without both, and each of
// those with every `*` removed. An empty (all-whitespace) variant never follows.
//
// Fidelity: word counts (`\w+`), Punkt sentence splitting with NLTK's English parameters, NLTK's word
// tokenizer and every regular expression follow Python's semantics (IFEvalPython.swift). Language
// identification (`language:response_language`, and the English test of `change_case:english_*`) ports
// langdetect with its random sampling as `DetectorFactory.seed = 0` draws it (IFEvalLanguage.swift); the
// reference leaves langdetect unseeded, so its own verdicts on ambiguous texts vary between runs.

/// One prompt of the benchmark.
public struct IFEvalItem: Sendable {
    /// The `key` field of input_data.jsonl.
    public var key: Int
    /// The prompt shown to the model.
    public var prompt: String
    /// Instruction ids in the data's order, e.g. `keywords:frequency`.
    public var instructionIds: [String]
    let checks: [IFEvalCheck]

    /// Builds an item from an id list and kwargs objects (as in input_data.jsonl); `location` prefixes errors.
    public init(key: Int, prompt: String, instructionIds: [String], kwargs: [[String: Any]], location: String = "item") throws {
        guard instructionIds.count == kwargs.count else {
            throw IFEvalError.invalid("\(location): instruction_id_list has \(instructionIds.count) ids but kwargs has \(kwargs.count) objects")
        }
        self.key = key
        self.prompt = prompt
        self.instructionIds = instructionIds
        checks = try zip(instructionIds, kwargs).enumerated().map { j, pair in
            // The reference drops falsy kwargs (None, 0, "", []) before building the instruction.
            let kept = pair.1.filter { !IFEval.isFalsy($0.value) }
            let seed = UInt64(truncatingIfNeeded: key) &* 1000 &+ UInt64(j)
            return try IFEvalCheck(id: pair.0, IFEvalKwargs(values: kept, location: "\(location): \(pair.0)", id: pair.0, seed: seed))
        }
    }
}

/// The verdicts for one response.
public struct IFEvalResult: Sendable, Equatable {
    /// The item's key.
    public var key: Int
    /// Per instruction: followed by the response as given.
    public var strict: [Bool]
    /// Per instruction: followed by at least one loose variant.
    public var loose: [Bool]

    public var promptStrict: Bool { strict.allSatisfy { $0 } }
    public var promptLoose: Bool { loose.allSatisfy { $0 } }
}

/// Accuracy over a set of results.
public struct IFEvalMetrics: Sendable, Equatable {
    /// Prompts scored.
    public var prompts: Int
    /// Instructions scored.
    public var instructions: Int
    /// Fraction of prompts whose every instruction is followed (strict / loose).
    public var promptStrict: Double
    public var promptLoose: Double
    /// Standard error of the prompt-level means: sample standard deviation over prompts / sqrt(n).
    public var promptStrictStandardError: Double
    public var promptLooseStandardError: Double
    /// Fraction of all instructions followed (strict / loose).
    public var instructionStrict: Double
    public var instructionLoose: Double
}

/// A bad data file or a broken installation.
public enum IFEvalError: Error, CustomStringConvertible {
    case invalid(String)
    case missingResource(String)
    case malformedResource(String, String)

    public var description: String {
        switch self {
        case .invalid(let s): return s
        case .missingResource(let p): return "IFEval resource missing: \(p) (the Preference target's resource bundle)"
        case .malformedResource(let p, let why): return "IFEval resource \(p) is malformed: \(why)"
        }
    }
}

/// Where the committed tables (Punkt English parameters, langdetect profiles) live.
enum IFEvalResources {
    static let directory: URL = Bundle.module.resourceURL!.appendingPathComponent("IFEvalData")
}

public enum IFEval {
    /// Reads input_data.jsonl: one `{"key", "prompt", "instruction_id_list", "kwargs"}` object per line.
    public static func load(_ url: URL) throws -> [IFEvalItem] {
        guard let data = try? Data(contentsOf: url) else { throw IFEvalError.invalid("\(url.path): cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw IFEvalError.invalid("\(url.path): not UTF-8") }
        var items: [IFEvalItem] = []
        var keys: Set<Int> = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy({ $0.isWhitespace }) {
            let loc = "\(url.path):\(n + 1)"
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw IFEvalError.invalid("\(loc):1: not a JSON object")
            }
            guard let key = obj["key"] as? Int else { throw IFEvalError.invalid("\(loc): key: expected an integer") }
            guard let prompt = obj["prompt"] as? String else { throw IFEvalError.invalid("\(loc): prompt: expected a string") }
            guard let ids = obj["instruction_id_list"] as? [String] else {
                throw IFEvalError.invalid("\(loc): instruction_id_list: expected a list of strings")
            }
            guard let kwargs = obj["kwargs"] as? [[String: Any]] else {
                throw IFEvalError.invalid("\(loc): kwargs: expected a list of objects")
            }
            guard keys.insert(key).inserted else { throw IFEvalError.invalid("\(loc): key \(key) appears twice") }
            items.append(try IFEvalItem(key: key, prompt: prompt, instructionIds: ids, kwargs: kwargs, location: loc))
        }
        guard !items.isEmpty else { throw IFEvalError.invalid("\(url.path): no items") }
        return items
    }

    /// Strict and loose verdicts for every instruction of `item`.
    public static func score(_ item: IFEvalItem, _ response: String) -> IFEvalResult {
        // Checks are pure functions of the text, so equal variants are checked once.
        var variants: [String] = []
        for v in looseVariants(response) where !PyStr.strip(v).isEmpty && !variants.contains(where: { PyStr.same($0, v) }) {
            variants.append(v)
        }
        let strictOK = !PyStr.strip(response).isEmpty
        var strict: [Bool] = [], loose: [Bool] = []
        for c in item.checks {
            let s = strictOK && c.follows(response)
            strict.append(s)
            loose.append(s || variants.contains { !PyStr.same($0, response) && c.follows($0) })
        }
        return IFEvalResult(key: item.key, strict: strict, loose: loose)
    }

    /// The reference's eight loose variants, in its order.
    static func looseVariants(_ r: String) -> [String] {
        let lines = PyStr.split(r, "\n")
        let noFirst = PyStr.strip(lines.dropFirst().joined(separator: "\n"))
        let noLast = PyStr.strip(lines.dropLast().joined(separator: "\n"))
        let noBoth = PyStr.strip(lines.count > 1 ? lines.dropFirst().dropLast().joined(separator: "\n") : "")
        let unstar = { (s: String) in String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 != "*" })) }
        return [r, unstar(r), noFirst, noLast, noBoth, unstar(noFirst), unstar(noLast), unstar(noBoth)]
    }

    public static func summary(_ results: [IFEvalResult]) -> IFEvalMetrics {
        func meanSE(_ xs: [Bool]) -> (Double, Double) {
            guard !xs.isEmpty else { return (0, 0) }
            let n = Double(xs.count)
            let m = Double(xs.filter { $0 }.count) / n
            guard xs.count > 1 else { return (m, 0) }
            let variance = xs.reduce(0) { $0 + (($1 ? 1 : 0) - m) * (($1 ? 1 : 0) - m) } / (n - 1)
            return (m, (variance / n).squareRoot())
        }
        let (ps, pse) = meanSE(results.map(\.promptStrict))
        let (pl, ple) = meanSE(results.map(\.promptLoose))
        let (is_, _) = meanSE(results.flatMap(\.strict))
        let (il, _) = meanSE(results.flatMap(\.loose))
        return IFEvalMetrics(prompts: results.count, instructions: results.reduce(0) { $0 + $1.strict.count },
                             promptStrict: ps, promptLoose: pl, promptStrictStandardError: pse,
                             promptLooseStandardError: ple, instructionStrict: is_, instructionLoose: il)
    }

    /// Python truthiness of a JSON value.
    static func isFalsy(_ v: Any) -> Bool {
        switch v {
        case is NSNull: return true
        case let s as String: return s.isEmpty
        case let a as [Any]: return a.isEmpty
        case let d as [String: Any]: return d.isEmpty
        case let n as NSNumber: return n.doubleValue == 0
        default: return false
        }
    }
}
