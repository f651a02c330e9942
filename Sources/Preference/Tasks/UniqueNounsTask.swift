import Randomness

/// Unique Nouns (D2PO §4): the number of distinct nouns in the response.
///
/// A noun is a token `POSTagger` tags NN, NNS, NNP or NNPS (the paper uses spaCy's tagger;
/// docs/tasks.md reports how well this one agrees with spaCy). Distinct means distinct
/// lowercased token text, so "Data" and "data" count once.
public struct UniqueNounsTask: GoldTask {
    public let name = "unique_nouns"

    public init() {}

    public func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] {
        InstructionPrompts.draw(count: count, split: split, seed: seed).map { Prompt($0, source: name) }
    }

    public func reward(prompt: Prompt, response: String) -> Double {
        Double(Self.nouns(in: response).count)
    }

    /// The distinct lowercased nouns of `text`.
    public static func nouns(in text: String) -> Set<String> {
        Set(POSTagger.shared.tag(text: text).filter { $0.tag.hasPrefix("NN") }.map { $0.token.lowercased() })
    }

    public func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] {
        let prompts = self.prompts(count: count, split: .train, seed: seed)
        var rng = SeededRandom(seed: seed).derived("unique_nouns/answers")
        return prompts.map { ($0, AnswerComposer.answer(to: $0.lastUserText, rng: &rng)) }
    }
}
