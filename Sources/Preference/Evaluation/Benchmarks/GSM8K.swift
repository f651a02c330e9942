import Foundation

/// GSM8K as the Unpacking paper evaluates it (App. D, following open-instruct / Tülu 2): 8-shot
/// chain of thought with the exemplars of Wei et al. (2022, Table 20), the last number of the
/// response as the answer, exact match against the number after `####`.
public struct GSM8KBenchmark: GenerativeBenchmark {
    /// The test file (`{"question", "answer"}` lines; the answer ends with `#### <number>`).
    public var file: URL
    /// Which items.
    public var selection: BenchmarkSelection
    /// Few-shot exemplars in the prompt (open-instruct: 8; fewer take the first ones).
    public var shots: Int

    public var name: String { "gsm8k" }

    public init(file: URL, selection: BenchmarkSelection = BenchmarkSelection(), shots: Int = 8) {
        self.file = file
        self.selection = selection
        self.shots = shots
    }

    public struct Item: Sendable {
        public var index: Int
        public var question: String
        /// The reference number, thousands separators removed.
        public var answer: String
    }

    public func items() throws -> [Item] {
        let records = try BenchmarkFiles.records(file, benchmark: name)
        let keep = try selection.indices(count: records.count, label: name)
        return try keep.map { i in
            let r = records[i]
            let full = try BenchmarkFiles.string(r, "answer")
            guard let mark = full.range(of: "####") else {
                throw BenchmarkError("\(r.origin): the answer has no '#### <number>' line")
            }
            let answer = GSM8KAnswer.dropThousandsCommas(String(full[mark.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines))
            guard Double(answer) != nil else { throw BenchmarkError("\(r.origin): the answer '\(answer)' is not a number") }
            return Item(index: i, question: try BenchmarkFiles.string(r, "question"), answer: answer)
        }
    }

    public func id(_ item: Item) -> String { "gsm8k/\(item.index)" }

    /// open-instruct's chat-format prompt: the instruction and the exemplars as the user turn, "Answer:"
    /// opening the assistant turn.
    public func prompt(_ item: Item) -> BenchmarkPrompt {
        let demos = GSM8KExemplars.pick(shots).map { "Question: \($0.question)\nAnswer: \($0.answer)" }
        let prefix = shots > 0 ? "Answer the following questions.\n\n" + demos.joined(separator: "\n\n") + "\n\n"
                               : "Answer the following question.\n\n"
        return BenchmarkPrompt(prefix + "Question: " + item.question.trimmingCharacters(in: .whitespacesAndNewlines),
                               assistantPrefix: "Answer:")
    }

    public func score(_ items: [Item], responses: [String]) throws -> [BenchmarkItem] {
        zip(items, responses).map { item, response in
            let predicted = GSM8KAnswer.lastNumber(response)
            let strict = GSM8KAnswer.lmEvalStrict(response)
            let flexible = GSM8KAnswer.lmEvalFlexible(response)
            let correct = ExactMatch.matches(predicted, item.answer)
            return BenchmarkItem(id: id(item), score: correct ? 1 : 0,
                                 metrics: ["strict_match": GSM8KAnswer.lmEvalMatches(strict, item.answer) ? 1 : 0,
                                           "flexible_match": GSM8KAnswer.lmEvalMatches(flexible, item.answer) ? 1 : 0],
                                 response: response, extracted: predicted, target: item.answer)
        }
    }

    public func summarize(_ results: [BenchmarkItem]) -> [String: Double] { BenchmarkRunner.summary(results) }
}

/// GSM8K answer extraction, three ways, each as its reference writes it.
public enum GSM8KAnswer {
    static let thousands = Regex.compile(#"(\d),(\d)"#)
    static let number = Regex.compile(#"[-+]?\d*\.\d+|\d+"#)
    static let strict = Regex.compile(#"#### (\-?[0-9\.\,]+)"#)
    static let flexible = Regex.compile(#"(-?[$0-9.,]{2,})|(-?[0-9]+)"#)
    static let lmEvalIgnore = [",", #"\$"#, #"(?s).*#### "#, #"\.$"#].map { Regex.compile($0) }

    /// `re.sub(r"(\d),(\d)", r"\1\2", s)`: one pass over non-overlapping matches, so "1,2,3" keeps
    /// its second comma ("12,3"), as in open-instruct.
    public static func dropThousandsCommas(_ s: String) -> String {
        Regex.replace(thousands, in: s, with: "$1$2")
    }

    /// open-instruct: commas between digits removed, then the last of `[-+]?\d*\.\d+|\d+`; with no
    /// number the whole (comma-stripped) response is the prediction.
    public static func lastNumber(_ response: String) -> String {
        let s = dropThousandsCommas(response)
        return Regex.findAll(number, s).last?.first ?? s
    }

    /// lm-evaluation-harness `strict-match`: the first `#### <number>`; "[invalid]" when absent.
    public static func lmEvalStrict(_ response: String) -> String {
        pick(Regex.findAll(strict, response).first)
    }

    /// lm-evaluation-harness `flexible-extract`: the last number-like run (group_select −1).
    public static func lmEvalFlexible(_ response: String) -> String {
        pick(Regex.findAll(flexible, response).last)
    }

    /// lm-eval's regex filter: the first non-empty group of the match, stripped; "[invalid]" without one.
    static func pick(_ match: [String]?) -> String {
        guard let match, let first = match.first(where: { !$0.isEmpty }) else { return "[invalid]" }
        return PythonText.strip(first)
    }

    /// lm-eval's `exact_match` for GSM8K: both sides lower-cased with `,`, `$`, everything up to
    /// `#### ` and a final `.` removed.
    public static func lmEvalMatches(_ prediction: String, _ reference: String) -> Bool {
        func clean(_ s: String) -> String {
            lmEvalIgnore.reduce(s) { Regex.replace($1, in: $0, with: "") }.lowercased()
        }
        return PythonText.equal(clean(prediction), clean(reference))
    }
}

/// The eight GSM8K chain-of-thought exemplars (Wei et al. 2022, Table 20), as open-instruct uses them.
enum GSM8KExemplars {
    static let all: [(question: String, answer: String)] = [
        ("There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?",
         "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. So the answer is 6."),
        ("If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
         "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. So the answer is 5."),
        ("Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
         "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. So the answer is 39."),
        ("Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?",
         "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. So the answer is 8."),
        ("Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?",
         "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. So the answer is 9."),
        ("There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?",
         "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. So the answer is 29."),
        ("Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?",
         "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. So the answer is 33."),
        ("Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
         "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. So the answer is 8."),
    ]

    /// The first `n` exemplars (all eight by default; the reference samples when n < 8, here the
    /// order is kept so that a prompt never depends on a random draw).
    static func pick(_ n: Int) -> [(question: String, answer: String)] { Array(all.prefix(max(0, n))) }
}
