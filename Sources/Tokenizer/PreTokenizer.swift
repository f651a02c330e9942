/// How text is cut into pieces before BPE merges run inside each piece.
///
/// Both schemes reproduce GPT-2's regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// with a hand-written scanner over UTF-8 (no regex engine): `\p{L}` is a Unicode letter category,
/// `\p{N}` a number category, `\s` the White_Space property. `gpt2Digits` first isolates every
/// `\p{N}` character (HF `Digits(individual_digits: true)`, llama.cpp's `smollm` pre-tokenizer), then
/// applies the regex to each remaining segment separately. Bytes that are not valid UTF-8 count as
/// punctuation, so any byte string can be cut and encoded.
public enum PreTokenizer: String, Sendable, Codable, CaseIterable {
    /// GPT-2's regex.
    case gpt2
    /// Each digit on its own, then GPT-2's regex (SmolLM2, StarCoder).
    case gpt2Digits

    /// Byte ranges of the pieces of `bytes`, in order, covering every byte.
    public func split(_ bytes: [UInt8]) -> [Range<Int>] {
        let units = PreTokenizer.units(bytes)
        var pieces: [Range<Int>] = []
        switch self {
        case .gpt2:
            PreTokenizer.scan(units, 0..<units.count, into: &pieces)
        case .gpt2Digits:
            var start = 0
            for i in 0..<units.count where units[i].kind == .number {
                if start < i { PreTokenizer.scan(units, start..<i, into: &pieces) }
                pieces.append(units[i].bytes)
                start = i + 1
            }
            if start < units.count { PreTokenizer.scan(units, start..<units.count, into: &pieces) }
        }
        return pieces
    }

    enum Kind: UInt8 { case letter, number, space, other }

    /// One character (or one invalid byte) with its class and byte range.
    struct Unit {
        var kind: Kind
        var bytes: Range<Int>
        /// The ASCII byte, or 0 for longer characters (contractions need only ASCII).
        var ascii: UInt8
    }

    private static let asciiKinds: [Kind] = (0..<128).map { b in
        kind(of: Unicode.Scalar(UInt8(b)))
    }

    private static func kind(of s: Unicode.Scalar) -> Kind {
        let p = s.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Decodes UTF-8 into classed units; each invalid byte becomes a unit of kind `.other`.
    static func units(_ bytes: [UInt8]) -> [Unit] {
        var out: [Unit] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            if b0 < 0x80 {
                out.append(Unit(kind: asciiKinds[Int(b0)], bytes: i..<i + 1, ascii: b0))
                i += 1
                continue
            }
            if let (scalar, len) = decodeMultiByte(bytes, at: i) {
                out.append(Unit(kind: kind(of: scalar), bytes: i..<i + len, ascii: 0))
                i += len
            } else {
                out.append(Unit(kind: .other, bytes: i..<i + 1, ascii: 0))
                i += 1
            }
        }
        return out
    }

    /// A well-formed 2–4 byte UTF-8 sequence at `i` (no overlongs, no surrogates), or nil.
    private static func decodeMultiByte(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let b0 = b[i]
        let len: Int, minValue: UInt32, initial: UInt32
        switch b0 {
        case 0xC2...0xDF: len = 2; minValue = 0x80; initial = UInt32(b0 & 0x1F)
        case 0xE0...0xEF: len = 3; minValue = 0x800; initial = UInt32(b0 & 0x0F)
        case 0xF0...0xF4: len = 4; minValue = 0x10000; initial = UInt32(b0 & 0x07)
        default: return nil
        }
        guard i + len <= b.count else { return nil }
        var v = initial
        for k in 1..<len {
            let c = b[i + k]
            guard c & 0xC0 == 0x80 else { return nil }
            v = (v << 6) | UInt32(c & 0x3F)
        }
        guard v >= minValue, let s = Unicode.Scalar(v) else { return nil }
        return (s, len)
    }

    /// GPT-2's regex over `units[range]`; appends the byte ranges of the matches.
    private static func scan(_ u: [Unit], _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        func emit(_ from: Int, _ to: Int) { pieces.append(u[from].bytes.lowerBound..<u[to - 1].bytes.upperBound) }
        func run(from j: Int, while kind: Kind) -> Int {
            var k = j
            while k < end && u[k].kind == kind { k += 1 }
            return k
        }
        while i < end {
            if let n = contractionLength(u, at: i, end: end) {
                emit(i, i + n); i += n; continue
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional literal space, then a run of one class.
            let j = (u[i].ascii == 0x20 && i + 1 < end) ? i + 1 : i
            if u[j].kind != .space {
                let k = run(from: j, while: u[j].kind)
                emit(i, k); i = k; continue
            }
            // `\s+(?!\S)` leaves the last space of a run to prefix the next word; `\s+` takes a lone one.
            var k = run(from: i, while: .space)
            if k < end && k - i > 1 { k -= 1 }
            emit(i, k); i = k
        }
    }

    /// Length of `'s|'t|'re|'ve|'m|'ll|'d` at `i`, or nil.
    private static func contractionLength(_ u: [Unit], at i: Int, end: Int) -> Int? {
        guard u[i].ascii == 0x27, i + 1 < end else { return nil }
        let c1 = u[i + 1].ascii
        if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 { return 2 }  // s t m d
        guard i + 2 < end else { return nil }
        let c2 = u[i + 2].ascii
        if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) { return 3 }  // re ve ll
        return nil
    }
}
