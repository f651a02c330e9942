import Randomness

/// Writes short, fluent-enough but plain answers to the built-in instructions: the SFT data of
/// the Word Collector and Unique Nouns tasks.
///
/// Each answer is 2–4 sentences (about 20–50 words) picked from a bank of generic sentences
/// with the instruction's topic filled in, so a policy learns the format but not the optimum:
/// an answer holds only a few of the 30 target words and a handful of nouns.
enum AnswerComposer {
    /// An answer to `instruction`, drawn from `rng`.
    static func answer(to instruction: String, rng: inout SeededRandom) -> String {
        let topic = InstructionPrompts.topic(of: instruction) ?? "this subject"
        var sentences = [openers[rng.nextInt(openers.count)]]
        let middleCount = 1 + rng.nextInt(2)
        var used = Set<Int>()
        while used.count < middleCount {
            used.insert(rng.nextInt(middles.count))
        }
        sentences += used.sorted().map { middles[$0] }
        if rng.nextDouble() < 0.5 { sentences.append(closers[rng.nextInt(closers.count)]) }
        let text = sentences.joined(separator: " ").replacingOccurrences(of: "{t}", with: topic)
        return capitalizeFirst(text)
    }

    static func capitalizeFirst(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst()
    }

    static let openers = [
        "{t} is something many people enjoy.", "Sure, here is a short answer about {t}.",
        "{t} can seem hard at the start.", "Many people ask me about {t}.",
        "There is a lot to say about {t}.", "Good question, {t} is a big topic.",
        "{t} is a skill that grows with practice.", "Let me tell you about {t}.",
    ]

    static let middles = [
        "Start with a small goal and keep notes each day.",
        "It helps to talk with a friend who knows the subject.",
        "A simple example is to set aside ten minutes every morning.",
        "The first step is to learn the basic words and ideas.",
        "You can find good books and videos at the local library.",
        "Try to be patient, because progress takes time.",
        "Make a short list of what you want to learn.",
        "Most people feel more confident after a few weeks.",
        "It is important to rest and enjoy the process.",
        "Ask questions when something is not clear.",
        "Keep your tools clean and your space tidy.",
        "Write down what worked and what did not.",
        "A teacher or a coach can give you useful feedback.",
        "Compare your results from week to week.",
        "Small changes can make a big difference over a year.",
        "Some people like to join a club or a class.",
        "Read the instructions carefully before you begin.",
        "Set a budget so that costs stay under control.",
        "Share what you learn with your family.",
        "There are many possible ways to do it well.",
    ]

    static let closers = [
        "I hope this helps.", "Good luck with your plans.", "Have fun and stay curious.",
        "Let me know if you have more questions.", "Enjoy the journey.",
        "Take it one step at a time.",
    ]
}
