import Foundation

/// BIG-Bench Hard with 3-shot chain of thought, as open-instruct runs it (the Unpacking paper's App. D):
/// the task's CoT prompt file, "Q: <input>", "A:" opening the assistant turn; the answer is the text
/// between the first "So the answer is " and the next ".", else the response's first paragraph;
/// exact match ignoring case and punctuation; the score is the mean over tasks.
public struct BBHBenchmark: GenerativeBenchmark {
    /// The `bbh/` data folder (holds `bbh/<task>.json` and `cot-prompts/<task>.txt`).
    public var folder: URL
    /// Tasks to run; nil runs all 27.
    public var tasks: [String]?
    /// Which items of each task (`limit` is per task).
    public var selection: BenchmarkSelection

    public var name: String { "bbh" }

    public init(folder: URL, tasks: [String]? = nil, selection: BenchmarkSelection = BenchmarkSelection()) {
        self.folder = folder
        self.tasks = tasks
        self.selection = selection
    }

    public struct Item: Sendable {
        public var task: String
        public var index: Int
        public var input: String
        public var target: String
        /// The task's few-shot CoT prompt (canary and separator lines removed).
        public var taskPrompt: String
    }

    /// The task names present in the data folder.
    public func availableTasks() throws -> [String] {
        let dir = folder.appendingPathComponent("bbh")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            throw BenchmarkError("bbh: data folder \(dir.path) does not exist (see ../shared/data/README.md)")
        }
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    public func items() throws -> [Item] {
        let known = try availableTasks()
        let chosen = tasks ?? known
        for t in chosen where !known.contains(t) {
            let near = dataDidYouMean(t, known).map { " (did you mean '\($0)'?)" } ?? ""
            throw BenchmarkError("bbh: no task '\(t)'\(near); tasks: \(known.joined(separator: ", "))")
        }
        return try chosen.flatMap(taskItems)
    }

    func taskItems(_ task: String) throws -> [Item] {
        let url = folder.appendingPathComponent("bbh/\(task).json")
        let text = try BenchmarkFiles.text(url, benchmark: name)
        guard let root = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let examples = root["examples"] as? [[String: Any]] else {
            throw BenchmarkError("\(url.path): expected an object with an 'examples' list")
        }
        let promptText = try BenchmarkFiles.text(folder.appendingPathComponent("cot-prompts/\(task).txt"), benchmark: name)
        // The reference drops the first two lines (canary, "-----") and strips the rest.
        let taskPrompt = promptText.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
            .dropFirst(2).joined().trimmingCharacters(in: .whitespacesAndNewlines)
        let keep = try selection.indices(count: examples.count, label: "bbh/" + task)
        return try keep.map { i in
            guard let input = examples[i]["input"] as? String, let target = examples[i]["target"] as? String else {
                throw BenchmarkError("\(url.path): example \(i) lacks a string 'input' or 'target'")
            }
            return Item(task: task, index: i, input: input, target: target, taskPrompt: taskPrompt)
        }
    }

    public func id(_ item: Item) -> String { "bbh/\(item.task)/\(item.index)" }

    public func prompt(_ item: Item) -> BenchmarkPrompt {
        BenchmarkPrompt(item.taskPrompt + "\n\nQ: " + item.input, assistantPrefix: "A:")
    }

    public func score(_ items: [Item], responses: [String]) throws -> [BenchmarkItem] {
        zip(items, responses).map { item, response in
            let predicted = BBHAnswer.extract(response)
            return BenchmarkItem(id: id(item), group: item.task, score: ExactMatch.matches(predicted, item.target) ? 1 : 0,
                                 response: response, extracted: predicted, target: item.target)
        }
    }

    /// `score` is the mean of the per-task accuracies (the reference's average); its SE is
    /// √(Σ SE_t²) / T over the T tasks, the tasks being independent samples.
    public func summarize(_ results: [BenchmarkItem]) -> [String: Double] {
        var out = BenchmarkRunner.summary(results, groups: true)
        let perTask = Dictionary(grouping: results, by: { $0.group ?? "" }).values.map { MeanWithError($0.map(\.score)) }
        let t = Double(max(perTask.count, 1))
        out["score"] = perTask.reduce(0) { $0 + $1.mean } / t
        out["score_se"] = perTask.reduce(0) { $0 + $1.standardError * $1.standardError }.squareRoot() / t
        out["item_mean"] = MeanWithError(results.map(\.score)).mean
        out["tasks"] = Double(perTask.count)
        return out
    }
}

/// The BBH reference's answer extraction.
public enum BBHAnswer {
    // Python's `.` stops only at "\n"; ICU's stops at other line ends too, so the class is spelt out.
    static let answer = Regex.compile(#"So the answer is ([^\n]*?)\."#)

    public static func extract(_ response: String) -> String {
        if let m = Regex.findAll(answer, response).first, let g = m.first {
            return PythonText.strip(g)
        }
        return PythonText.strip(PythonText.strip(response).components(separatedBy: "\n\n").first ?? "")
    }
}
