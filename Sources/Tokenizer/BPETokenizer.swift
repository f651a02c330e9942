import Foundation

/// A byte-level BPE tokenizer (GPT-2 scheme, as used by SmolLM2): text -> UTF-8 bytes -> pieces -> merges.
///
/// Encoding: special tokens written in the text are matched first (longest first) and map to their
/// ids; the rest is cut by `preTokenizer` and each piece's bytes are merged by rank, lowest first,
/// leftmost on ties (HF `tokenizers` and llama.cpp agree on this order). Decoding concatenates
/// each token's bytes, so `decodeBytes(encode(bytes: b)) == b` for every byte string `b` whose bytes
/// all have tokens (always true for trained tokenizers; see `missingByteTokens`).
/// Ids need not be contiguous; `vocabSize` is one past the largest id, and missing ids decode to "".
public final class BPETokenizer: Sendable {
    /// Token string for each id: byte-level characters ("Ġthe") or the special token as written.
    public let tokens: [String]
    /// Id of each token string, special tokens included.
    public let vocab: [String: Int32]
    /// Merge rules in rank order (rank 0 merges first).
    public let merges: [(String, String)]
    /// Special tokens (matched verbatim in text, never split or merged) and their ids.
    public let specialTokens: [String: Int32]
    /// Begin-of-sequence id; nil when the vocabulary has no such token. Never added by `encode`.
    public let bos: Int32?
    /// End-of-sequence (end-of-turn) id that stops generation; nil when none.
    public let eos: Int32?
    /// Padding id for batches; nil when none (callers then pad with `eos` or 0, their choice).
    public let pad: Int32?
    /// How text is cut into pieces before merging.
    public let preTokenizer: PreTokenizer
    /// Bytes that have no single-byte token; such bytes encode to `unk`, or are dropped when `unk` is nil
    /// (as HF `tokenizers` and llama.cpp do). Empty for trained tokenizers; SmolLM2 lacks 21 bytes.
    public let missingByteTokens: [UInt8]
    /// Merge rules naming a token that is not in the vocabulary (ignored); `load` refuses them.
    public let invalidMerges: [Int]
    /// Id standing for bytes that have no token (see `missingByteTokens`).
    public let unk: Int32?

    /// One past the largest id.
    public var vocabSize: Int { tokens.count }

    private let tokenBytes: [[UInt8]]  // bytes of each id
    private let byteIds: [Int32]  // id of each single byte, -1 when missing
    private let mergeTable: [UInt64: Merge]  // (left id << 32 | right id) -> rule
    private let specialsByFirstByte: [UInt8: [(bytes: [UInt8], id: Int32)]]  // longest first

    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// Builds a tokenizer from its vocabulary, merge rules and special tokens.
    ///
    /// - Parameters:
    ///   - vocab: byte-level token strings and their ids; special tokens may be in it or not.
    ///   - merges: merge rules, highest priority first; rules naming unknown tokens are ignored
    ///     and listed in `invalidMerges`.
    ///   - specialTokens: tokens matched verbatim in text.
    ///   - bos, eos, pad, unk: ids of the roles, each optional.
    ///   - preTokenizer: the splitting scheme; SmolLM2's is `.gpt2Digits`.
    public init(vocab: [String: Int32], merges: [(String, String)], specialTokens: [String: Int32],
                bos: Int32? = nil, eos: Int32? = nil, pad: Int32? = nil, unk: Int32? = nil,
                preTokenizer: PreTokenizer = .gpt2Digits) {
        var all = vocab
        for (s, id) in specialTokens { all[s] = id }
        let size = Int((all.values.max() ?? -1) + 1)
        var tokens = [String](repeating: "", count: size)
        var bytes = [[UInt8]](repeating: [], count: size)
        for (s, id) in all where id >= 0 {
            tokens[Int(id)] = s
            bytes[Int(id)] = specialTokens[s] == nil ? (ByteLevel.decode(s) ?? Array(s.utf8)) : Array(s.utf8)
        }
        var byteIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 { byteIds[b] = vocab[String(ByteLevel.byteToScalar[b])] ?? -1 }
        var table: [UInt64: Merge] = [:]
        var invalid: [Int] = []
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = all[a], let ib = all[b], let ic = all[a + b] else { invalid.append(rank); continue }
            let key = BPETokenizer.pairKey(ia, ib)
            if table[key] == nil { table[key] = Merge(rank: Int32(rank), result: ic) }
        }
        var specials: [UInt8: [(bytes: [UInt8], id: Int32)]] = [:]
        for (s, id) in specialTokens where !s.isEmpty {
            let b = Array(s.utf8)
            specials[b[0], default: []].append((b, id))
        }
        for k in specials.keys { specials[k]?.sort { $0.bytes.count > $1.bytes.count || ($0.bytes.count == $1.bytes.count && $0.bytes.lexicographicallyPrecedes($1.bytes)) } }

        self.tokens = tokens
        self.vocab = all
        self.merges = merges
        self.specialTokens = specialTokens
        self.bos = bos
        self.eos = eos
        self.pad = pad
        self.unk = unk
        self.preTokenizer = preTokenizer
        self.tokenBytes = bytes
        self.byteIds = byteIds
        self.mergeTable = table
        self.specialsByFirstByte = specials
        self.missingByteTokens = (0..<256).filter { byteIds[$0] < 0 }.map { UInt8($0) }
        self.invalidMerges = invalid
    }

    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// Id of a token string (byte-level form, or a special token), or nil.
    public func id(of token: String) -> Int32? { vocab[token] }

    /// Token string of an id, or nil when out of range.
    public func token(of id: Int32) -> String? { id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil }

    /// The ids of `text`; special tokens written in it map to their ids unless `allowSpecial` is false,
    /// in which case they are encoded as ordinary text (use that for untrusted user content).
    public func encode(_ text: String, allowSpecial: Bool = true) -> [Int32] {
        encode(bytes: Array(text.utf8), allowSpecial: allowSpecial)
    }

    /// The ids of any byte string (valid UTF-8 or not).
    public func encode(bytes: [UInt8], allowSpecial: Bool = true) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(bytes.count / 3 + 1)
        for (range, special) in splitSpecial(bytes, allowSpecial: allowSpecial) {
            if let special { out.append(special) } else { encodeOrdinary(bytes, range, into: &out) }
        }
        return out
    }

    /// Cuts `bytes` into ordinary stretches (id nil) and special tokens (their id), in order.
    func splitSpecial(_ bytes: [UInt8], allowSpecial: Bool) -> [(Range<Int>, Int32?)] {
        guard allowSpecial, !specialsByFirstByte.isEmpty else { return [(0..<bytes.count, nil)] }
        var parts: [(Range<Int>, Int32?)] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            if let candidates = specialsByFirstByte[bytes[i]],
               let hit = candidates.first(where: { matches($0.bytes, bytes, at: i) }) {
                if start < i { parts.append((start..<i, nil)) }
                parts.append((i..<i + hit.bytes.count, hit.id))
                i += hit.bytes.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { parts.append((start..<bytes.count, nil)) }
        return parts
    }

    private func matches(_ pattern: [UInt8], _ bytes: [UInt8], at i: Int) -> Bool {
        guard i + pattern.count <= bytes.count else { return false }
        for k in 0..<pattern.count where bytes[i + k] != pattern[k] { return false }
        return true
    }

    private func encodeOrdinary(_ bytes: [UInt8], _ range: Range<Int>, into out: inout [Int32]) {
        guard !range.isEmpty else { return }
        let segment = Array(bytes[range])
        for piece in preTokenizer.split(segment) { mergePiece(segment[piece], into: &out) }
    }

    /// Applies merges inside one piece: a linked list of symbols and a heap of candidate pairs.
    private func mergePiece(_ piece: ArraySlice<UInt8>, into out: inout [Int32]) {
        var ids: [Int32] = []  // (L,) symbol ids; -1 marks a symbol merged into its left neighbour
        ids.reserveCapacity(piece.count)
        for b in piece {
            let id = byteIds[Int(b)]
            if id >= 0 { ids.append(id) } else if let u = unk { ids.append(u) }
        }
        if ids.count > 1 {
            var next = Array(1...ids.count)  // (L,) index of the right neighbour, L at the end
            var prev = Array(-1..<(ids.count - 1))  // (L,)
            var heap = MinHeap<UInt64>()  // rank << 32 | left position: lowest rank, then leftmost
            func consider(_ i: Int) {
                guard i >= 0 else { return }
                let j = next[i]
                guard j < ids.count, let m = mergeTable[BPETokenizer.pairKey(ids[i], ids[j])] else { return }
                heap.push(UInt64(m.rank) << 32 | UInt64(i))
            }
            for i in 0..<(ids.count - 1) { consider(i) }
            while let top = heap.pop() {
                let i = Int(top & 0xFFFF_FFFF), rank = Int32(top >> 32)
                let j = next[i]
                guard ids[i] >= 0, j < ids.count,
                      let m = mergeTable[BPETokenizer.pairKey(ids[i], ids[j])], m.rank == rank else { continue }
                ids[i] = m.result
                ids[j] = -1
                next[i] = next[j]
                if next[j] < ids.count { prev[next[j]] = i }
                consider(prev[i])
                consider(i)
            }
        }
        for id in ids where id >= 0 { out.append(id) }
    }

    /// The exact bytes of `ids`; an id out of range gives U+FFFD's bytes.
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids {
            if id >= 0 && Int(id) < tokenBytes.count { out += tokenBytes[Int(id)] } else { out += [0xEF, 0xBF, 0xBD] }
        }
        return out
    }

    /// The text of `ids`, replacing bytes that do not form valid UTF-8 with U+FFFD (lossy only then).
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }

    /// The text of `ids`, or nil when their bytes are not valid UTF-8 (no replacement).
    public func decodeStrict(_ ids: [Int32]) -> String? {
        let bytes = decodeBytes(ids)
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }
}
