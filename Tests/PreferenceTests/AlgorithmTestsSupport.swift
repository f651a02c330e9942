import Foundation
import Llama
import Randomness
@testable import Preference

/// Bytes are ids 0...255; 256 = EOS, 257 = PAD, 258 = assistant marker closing every prompt.
struct ByteCodec: TextCodec {
    static let vocabSize = 259
    var eos: Int32 { 256 }
    var pad: Int32 { 257 }
    func encode(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }
    func decode(_ ids: [Int32]) -> String {
        String(decoding: ids.filter { $0 >= 0 && $0 < 256 }.map { UInt8($0) }, as: UTF8.self)
    }
    func promptTokens(_ p: Prompt) -> [Int32] { encode(p.lastUserText) + [258] }
}

/// Toy gold task: reward = number of `target` letters in the response (dense, easy to climb).
struct LetterCountTask: GoldTask {
    var target: Character = "a"
    var name: String { "letter_count" }

    func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] {
        var rng = SeededRandom(seed: seed).derived(split.rawValue)
        return (0..<count).map { _ in Prompt(String((0..<3).map { _ in "xyz".randomElement(using: &rng)! })) }
    }

    func reward(prompt: Prompt, response: String) -> Double { Double(response.filter { $0 == target }.count) }

    /// Random 4–6 letter words over "abcd": fluent for the toy, far from optimal.
    func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] {
        var rng = SeededRandom(seed: seed).derived("demos")
        let ps = prompts(count: count, split: .train, seed: seed)
        return ps.map { p in (p, String((0..<(4 + rng.nextInt(3))).map { _ in "abcd".randomElement(using: &rng)! })) }
    }
}

/// Gold annotator of a task: prefers the higher gold reward (ties: first); counts every call.
final class CountingAnnotator: Annotator, @unchecked Sendable {
    let task: any GoldTask
    private let lock = NSLock()
    private var _calls = 0
    var calls: Int { lock.lock(); defer { lock.unlock() }; return _calls }

    init(task: any GoldTask) { self.task = task }

    func label(prompt: Prompt, _ a: String, _ b: String) throws -> PreferenceLabel {
        lock.lock()
        _calls += 1
        lock.unlock()
        return task.reward(prompt: prompt, response: a) >= task.reward(prompt: prompt, response: b) ? .first : .second
    }
}

/// Tiny models and a shared SFT'd starting policy.
enum Toy {
    static let config = LlamaConfig(vocabSize: ByteCodec.vocabSize, dModel: 32, nLayers: 1, nHeads: 2, nKVHeads: 2,
                                    hidden: 64, maxSeqLen: 24)
    static let task = LetterCountTask()

    static func policy(seed: UInt64 = 1) -> Policy {
        // The head is .lm by construction, so this cannot throw.
        try! Policy(model: LlamaModel(config: config, head: .lm, seed: seed), codec: ByteCodec())
    }

    static func rewardModel(seed: UInt64 = 2) -> RewardModel {
        try! RewardModel(model: LlamaModel(config: config, head: .scalar, seed: seed), codec: ByteCodec())
    }

    /// A policy fine-tuned on the demonstrations (computed once; tests take copies).
    static let sftPolicy: Policy = {
        let p = policy()
        var params = SFTTrainer.Parameters()
        params.learningRate = 1e-2
        params.epochs = 3
        params.batchSize = 16
        params.warmupFraction = 0
        _ = try! SFTTrainer(params).train(policy: p, examples: task.demonstrations(count: 192, seed: 5))
        return p
    }()

    /// Pairs whose chosen response has more `a`s (separable by counting).
    static func countPairs(count: Int, seed: UInt64) -> [PreferencePair] {
        var rng = SeededRandom(seed: seed).derived("pairs")
        let prompts = task.prompts(count: count, split: .train, seed: seed)
        return prompts.map { p in
            func word(_ a: Int) -> String {
                var letters = Array(repeating: Character("a"), count: a) + (0..<(6 - a)).map { _ in "bcd".randomElement(using: &rng)! }
                letters.shuffle(using: &rng)
                return String(letters)
            }
            let hi = 3 + rng.nextInt(4), lo = rng.nextInt(3)
            return PreferencePair(prompt: p, chosen: word(hi), rejected: word(lo))
        }
    }

    static func temporaryDirectory(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-\(name)-\(UUID().uuidString)")
        return url
    }

    /// Every parameter value of a model, flattened (for bit-identity checks).
    static func weights(_ m: LlamaModel) -> [Float] { m.parameters.flatMap { Array($0.value) } }
}
