import Randomness

/// Word Collector (D2PO §4): +1 for each of 30 target words present in the response, at most 30.
///
/// Words are `TaskText.words`: lowercased maximal runs of letters, so matching is
/// case-insensitive and whole-word ("questions" does not count as "question"; "first-class"
/// counts "first"). Each target word counts once however often it appears.
public struct WordCollectorTask: GoldTask {
    public let name = "word_collector"

    /// The 30 target words of the paper (the top content words of UltraFeedback).
    public static let targetWords: [String] = [
        "data", "hope", "information", "provide", "example", "your", "however", "first", "have",
        "help", "additionally", "important", "include", "finally", "following", "happy", "code",
        "two", "create", "question", "possible", "understand", "generate", "contains",
        "appropriate", "best", "respectful", "ensure", "experience", "safe",
    ]
    static let targetSet = Set(targetWords)

    public init() {}

    public func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] {
        InstructionPrompts.draw(count: count, split: split, seed: seed).map { Prompt($0, source: name) }
    }

    public func reward(prompt: Prompt, response: String) -> Double {
        Double(Self.targetWordsPresent(in: response).count)
    }

    /// The distinct target words `response` contains.
    public static func targetWordsPresent(in response: String) -> Set<String> {
        Set(TaskText.words(response)).intersection(targetSet)
    }

    public func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] {
        let prompts = self.prompts(count: count, split: .train, seed: seed)
        var rng = SeededRandom(seed: seed).derived("word_collector/answers")
        return prompts.map { ($0, AnswerComposer.answer(to: $0.lastUserText, rng: &rng)) }
    }
}
