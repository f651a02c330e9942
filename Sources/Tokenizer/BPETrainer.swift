import Foundation

extension BPETokenizer {
    /// Learns a byte-level BPE vocabulary from text; the same inputs always give the same tokenizer.
    ///
    /// Ids: special tokens first (0..<k, in the given order), then the 256 bytes in byte order, then
    /// one token per merge. Each step merges the most frequent adjacent pair over the pre-tokenized
    /// word counts (ties: the pair whose left id, then right id, is smaller) and updates pair counts
    /// only for the words that contain it. Special tokens in the corpus are cut out, never merged.
    /// Training stops at `vocabSize` or when no pair occurs `minFrequency` times.
    ///
    /// - Parameters:
    ///   - bos, eos, pad: which special tokens play these roles. When nil they are inferred by name:
    ///     bos from `<|bos|>`, `<s>`, `<|begin_of_text|>`, `<|endoftext|>`; eos from `<|end|>`,
    ///     `<|im_end|>`, `<|eos|>`, `</s>`, `<|end_of_text|>`, `<|endoftext|>`; pad from `<|pad|>`,
    ///     `<pad>` (the first present wins; absent roles stay nil).
    public static func train(corpus: [String], vocabSize: Int, specialTokens: [String],
                             bos: String? = nil, eos: String? = nil, pad: String? = nil,
                             preTokenizer: PreTokenizer = .gpt2Digits, minFrequency: Int = 2) -> BPETokenizer {
        var specials: [String] = []
        for s in specialTokens where !s.isEmpty && !specials.contains(s) { specials.append(s) }
        let splitter = BPETokenizer(vocab: [:], merges: [], specialTokens: Dictionary(uniqueKeysWithValues: specials.enumerated().map { ($1, Int32($0)) }), preTokenizer: preTokenizer)
        var counts: [[UInt8]: Int] = [:]
        for text in corpus {
            let bytes = Array(text.utf8)
            for (range, special) in splitter.splitSpecial(bytes, allowSpecial: true) where special == nil {
                let segment = Array(bytes[range])
                for piece in preTokenizer.split(segment) { counts[Array(segment[piece]), default: 0] += 1 }
            }
        }
        var trainer = PairTrainer(specials: specials, words: counts, minFrequency: max(1, minFrequency))
        trainer.run(until: vocabSize)

        var vocab: [String: Int32] = [:]
        for (i, t) in trainer.tokens.enumerated() where i >= specials.count { vocab[t] = Int32(i) }
        let specialIds = Dictionary(uniqueKeysWithValues: specials.enumerated().map { ($1, Int32($0)) })
        func role(_ given: String?, _ names: [String]) -> Int32? {
            if let given { return specialIds[given] }
            return names.lazy.compactMap { specialIds[$0] }.first
        }
        return BPETokenizer(
            vocab: vocab, merges: trainer.merges, specialTokens: specialIds,
            bos: role(bos, ["<|bos|>", "<s>", "<|begin_of_text|>", "<|endoftext|>"]),
            eos: role(eos, ["<|end|>", "<|im_end|>", "<|eos|>", "</s>", "<|end_of_text|>", "<|endoftext|>"]),
            pad: role(pad, ["<|pad|>", "<pad>"]),
            preTokenizer: preTokenizer)
    }

}

/// Incremental pair counting over unique words; the working state of `BPETokenizer.train`.
struct PairTrainer {
    /// Token strings by id.
    private(set) var tokens: [String]
    private(set) var merges: [(String, String)] = []
    private var words: [[Int32]]  // unique words as symbol ids, sorted by bytes for determinism
    private var freqs: [Int]  // occurrences of each word
    private var pairCounts: [UInt64: Int] = [:]
    private var pairWords: [UInt64: [Int32]] = [:]  // words that contain (or once contained) the pair
    private var heap = MinHeap<Candidate>()
    private let minFrequency: Int

    /// A pair and its count when pushed; stale when the count has changed since.
    struct Candidate: Comparable {
        var count: Int
        var key: UInt64
        static func < (a: Candidate, b: Candidate) -> Bool { a.count > b.count || (a.count == b.count && a.key < b.key) }
    }

    init(specials: [String], words counts: [[UInt8]: Int], minFrequency: Int) {
        tokens = specials + (0..<256).map { String(ByteLevel.byteToScalar[$0]) }
        let offset = Int32(specials.count)
        let sorted = counts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        words = sorted.map { $0.key.map { Int32($0) + offset } }
        freqs = sorted.map(\.value)
        self.minFrequency = minFrequency
        for (w, word) in words.enumerated() where word.count > 1 {
            for k in 0..<(word.count - 1) {
                let key = BPETokenizer.pairKey(word[k], word[k + 1])
                pairCounts[key, default: 0] += freqs[w]
                pairWords[key, default: []].append(Int32(w))
            }
        }
        for (key, count) in pairCounts { heap.push(Candidate(count: count, key: key)) }
    }

    mutating func run(until vocabSize: Int) {
        var stamp = [Int](repeating: -1, count: words.count)  // last step that rewrote each word
        while tokens.count < vocabSize, let best = nextPair() {
            let a = Int32(truncatingIfNeeded: best >> 32), b = Int32(truncatingIfNeeded: best)
            let c = Int32(tokens.count)
            tokens.append(tokens[Int(a)] + tokens[Int(b)])
            merges.append((tokens[Int(a)], tokens[Int(b)]))
            var delta: [UInt64: Int] = [:]
            for w in pairWords[best] ?? [] where stamp[Int(w)] != Int(c) {
                stamp[Int(w)] = Int(c)
                rewrite(Int(w), a, b, c, &delta)
            }
            pairWords[best] = nil
            for (key, d) in delta where d != 0 {
                let n = pairCounts[key, default: 0] + d
                pairCounts[key] = n
                if n > 0 { heap.push(Candidate(count: n, key: key)) }
            }
        }
    }

    /// The most frequent pair whose heap entry is current, or nil when none reaches `minFrequency`.
    private mutating func nextPair() -> UInt64? {
        while let top = heap.pop() {
            guard top.count >= minFrequency else { return nil }
            if pairCounts[top.key] == top.count { return top.key }
        }
        return nil
    }

    /// Merges every (a, b) in word `w` into c, recording the change of pair counts in `delta`.
    private mutating func rewrite(_ w: Int, _ a: Int32, _ b: Int32, _ c: Int32, _ delta: inout [UInt64: Int]) {
        let old = words[w]
        var new: [Int32] = []
        new.reserveCapacity(old.count)
        var k = 0
        while k < old.count {
            if k + 1 < old.count && old[k] == a && old[k + 1] == b { new.append(c); k += 2 } else { new.append(old[k]); k += 1 }
        }
        guard new.count != old.count else { return }
        let f = freqs[w]
        for k in 0..<(old.count - 1) { delta[BPETokenizer.pairKey(old[k], old[k + 1]), default: 0] -= f }
        for k in 0..<max(0, new.count - 1) {
            let key = BPETokenizer.pairKey(new[k], new[k + 1])
            delta[key, default: 0] += f
            if new[k] == c || new[k + 1] == c { pairWords[key, default: []].append(Int32(w)) }
        }
        words[w] = new
    }
}
