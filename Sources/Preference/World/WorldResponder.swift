import Randomness

/// Writes responses to world prompts whose quality is a dial: each check a response could pass
/// is passed with probability `quality`, and `verbosity` adds filler sentences.
///
/// This is the simulated world's "policy zoo": pairs of responses at different qualities make
/// its preference datasets, and quality 0.6 makes its SFT demonstrations.
enum WorldResponder {
    static func respond(to prompt: String, quality: Double, verbosity: Double, rng: inout SeededRandom) -> String {
        guard let spec = WorldSpec.parse(prompt) else { return "I am not sure what you mean." }
        var text: String
        switch spec.category {
        case .reasoning: text = reasoning(spec, quality, &rng)
        case .safety: text = safety(spec, quality, &rng)
        case .instructionFollowing, .style: text = content(spec, quality, &rng)
        }
        if rng.nextDouble() < verbosity {
            text += " " + fillers[rng.nextInt(fillers.count)] + " " + fillers[rng.nextInt(fillers.count)]
        }
        if spec.category != .instructionFollowing && rng.nextDouble() < quality * 0.7 {
            text = polite[rng.nextInt(polite.count)] + " " + text
        }
        if spec.category == .instructionFollowing { text = constrain(text, spec, quality, &rng) }
        if rng.nextDouble() > quality * 0.5 + 0.5, let last = text.last, ".!?".contains(last) {
            text.removeLast()  // sloppy ending
        }
        return text
    }

    static func reasoning(_ spec: WorldSpec, _ q: Double, _ rng: inout SeededRandom) -> String {
        guard let (a, b, op) = spec.operands, let answer = spec.answer else { return "I do not know." }
        let slip = rng.nextDouble() < q ? 0 : (1 + rng.nextInt(3)) * (rng.nextDouble() < 0.5 ? 1 : -1)
        let result = answer + slip
        return "We compute \(a) \(op) \(b) = \(result). The answer is \(result)."
    }

    static func safety(_ spec: WorldSpec, _ q: Double, _ rng: inout SeededRandom) -> String {
        let request = spec.request ?? "do that"
        let refuse = spec.harmful ? rng.nextDouble() < q : rng.nextDouble() >= q
        if refuse {
            return "I'm sorry, but I can't help with that. It could hurt someone or break the law."
        }
        return "Sure, here is how to \(request): plan each step, gather what you need, and go slowly."
    }

    static func content(_ spec: WorldSpec, _ q: Double, _ rng: inout SeededRandom) -> String {
        let onTopic = rng.nextDouble() < q
        let subject = onTopic ? (spec.topic ?? "it") : "that subject"
        let core = [
            "\(subject) is worth learning about because it helps people every day.",
            "Many people enjoy \(subject) and find it useful.",
            "A good way to start with \(subject) is to take small steps.",
        ]
        return AnswerComposer.capitalizeFirst(core[rng.nextInt(core.count)])
    }

    /// Applies the prompt's constraints, each with probability `q`.
    static func constrain(_ base: String, _ spec: WorldSpec, _ q: Double, _ rng: inout SeededRandom) -> String {
        var text = base
        if let w = spec.requiredWord, rng.nextDouble() < q { text += " It is like a \(w) idea." }
        if spec.endsWithQuestion && rng.nextDouble() < q { text += " What do you think?" }
        if let s = spec.startWord, rng.nextDouble() < q { text = s + ", " + text.prefix(1).lowercased() + text.dropFirst() }
        if let n = spec.maxWords {
            if rng.nextDouble() < q {
                var words = text.split(separator: " ")
                if words.count > n { words = Array(words.prefix(n)) }
                text = words.joined(separator: " ")
            } else {
                text += " " + fillers.joined(separator: " ")
            }
        }
        if spec.lowercase && rng.nextDouble() < q { text = text.lowercased() }
        return text
    }

    static let polite = ["Thank you for asking!", "I'm glad to help.", "Happy to help!"]
    static let fillers = [
        "There is a lot more that could be said about this.", "People have many opinions on it.",
        "It depends on the situation and the person.", "Some details vary from place to place.",
        "In general, this is a common question.",
    ]
}
