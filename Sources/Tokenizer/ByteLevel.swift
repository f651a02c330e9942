/// GPT-2's reversible byte-to-character mapping, so that every byte sequence is a printable token string.
///
/// Printable Latin-1 bytes ('!'...'~', '¡'...'¬', '®'...'ÿ') stand for themselves; the other 68 bytes
/// (controls, space, DEL, NBSP, soft hyphen) map in byte order to U+0100 onwards, so space becomes 'Ġ'
/// and newline 'Ċ'. This is the scheme of GPT-2, SmolLM2 and HF's `ByteLevel` pre-tokenizer.
enum ByteLevel {
    /// The character standing for each byte, indexed by the byte.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var extra: UInt32 = 256
        for b in 0..<256 {
            if isPrintable(b) {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(extra) ?? " "  // 256...323 are all valid scalars
                extra += 1
            }
        }
        return table
    }()

    /// The byte behind each mapped character (inverse of `byteToScalar`).
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    private static func isPrintable(_ b: Int) -> Bool {
        (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
    }

    /// The token string for raw bytes.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// The raw bytes of a token string, or nil when a character is outside the mapping.
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = scalarToByte[s.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
