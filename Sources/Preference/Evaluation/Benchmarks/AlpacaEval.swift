import Foundation

/// AlpacaEval-style win rate (Li et al. 2023): the model answers the 805 AlpacaEval instructions and a
/// judge compares each answer (`output_2`) with the reference answer (`output_1`, text_davinci_003 in the
/// alpaca_eval_gpt4 annotations). A judge's preference is AlpacaEval's: 1 = reference better, 2 = model
/// better, in between for ties or soft preferences; the item's score (win) is preference − 1.
public struct AlpacaEvalBenchmark: GenerativeBenchmark {
    /// An annotations file (`[{"instruction", "output_1", "generator_1", ...}]`); only instruction and
    /// output_1 are read, and every file of the folder holds the same reference answers.
    public var file: URL
    /// Which instructions.
    public var selection: BenchmarkSelection
    /// Who compares.
    public var judge: any PairwiseJudge

    public var name: String { "alpaca_eval" }

    public init(file: URL, selection: BenchmarkSelection = BenchmarkSelection(), judge: any PairwiseJudge) {
        self.file = file
        self.selection = selection
        self.judge = judge
    }

    public struct Item: Sendable {
        public var index: Int
        public var instruction: String
        public var reference: String
    }

    public func items() throws -> [Item] {
        let records = try BenchmarkFiles.records(file, benchmark: name)
        return try selection.indices(count: records.count, label: name).map { i in
            Item(index: i, instruction: try BenchmarkFiles.string(records[i], "instruction"),
                 reference: try BenchmarkFiles.string(records[i], "output_1"))
        }
    }

    public func id(_ item: Item) -> String { "alpaca_eval/\(item.index)" }

    public func prompt(_ item: Item) -> BenchmarkPrompt { BenchmarkPrompt(item.instruction) }

    public func score(_ items: [Item], responses: [String]) throws -> [BenchmarkItem] {
        let requests = zip(items, responses).map { item, response in
            JudgeRequest(id: id(item), instruction: item.instruction, output_1: item.reference, output_2: response)
        }
        let preferences = try judge.judge(requests)
        guard preferences.count == requests.count else {
            throw BenchmarkError("alpaca_eval: the judge returned \(preferences.count) preferences for \(requests.count) pairs")
        }
        return try zip(requests, preferences).map { r, p in
            guard p.isFinite, (1...2).contains(p) else {
                throw BenchmarkError("alpaca_eval: the judge's preference for \(r.id) is \(p), expected a number in [1, 2]")
            }
            return BenchmarkItem(id: r.id, score: p - 1, metrics: ["length": Double(r.output_2.count)],
                                 response: r.output_2, extracted: "preference \(p)")
        }
    }

    /// `score` (= `win_rate`) is the mean win, ties counting half.
    public func summarize(_ results: [BenchmarkItem]) -> [String: Double] {
        var out = BenchmarkRunner.summary(results)
        out["win_rate"] = out["score"]
        out["win_rate_se"] = out["score_se"]
        return out
    }
}

/// One comparison, as sent to a judge (and, as JSON, to an external judge command).
public struct JudgeRequest: Codable, Sendable, Equatable {
    public var id: String
    public var instruction: String
    /// The reference answer.
    public var output_1: String
    /// The evaluated model's answer.
    public var output_2: String
}

/// Compares answers: for each request, AlpacaEval's preference in [1, 2] (1: output_1 better, 2: output_2 better).
public protocol PairwiseJudge {
    func judge(_ requests: [JudgeRequest]) throws -> [Double]
}

/// A reward model as judge: the higher reward wins, equal rewards tie (preference 1.5).
public struct RewardModelJudge: PairwiseJudge {
    public let rewardModel: RewardModel

    public init(rewardModel: RewardModel) { self.rewardModel = rewardModel }

    public func judge(_ requests: [JudgeRequest]) throws -> [Double] {
        let pairs = requests.flatMap { r in
            [rewardModel.pair(Prompt(r.instruction), r.output_1), rewardModel.pair(Prompt(r.instruction), r.output_2)]
        }
        let s = try rewardModel.scores(pairs)
        return requests.indices.map { i in s[2 * i + 1] > s[2 * i] ? 2 : s[2 * i + 1] < s[2 * i] ? 1 : 1.5 }
    }
}
