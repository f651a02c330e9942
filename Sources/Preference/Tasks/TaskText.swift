import RecipeSpec
import Randomness

/// Text helpers shared by the gold tasks: word splitting, edit distance, stable hashing.
public enum TaskText {
    /// The lowercased words of `text`: maximal runs of letters (`Character.isLetter`).
    ///
    /// Everything else separates words, so "don't" is "don" + "t", "first-class" is "first" +
    /// "class", "code2" is "code"; digits never belong to a word.
    public static func words(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in text {
            if ch.isLetter {
                current.append(ch)
            } else if !current.isEmpty {
                out.append(current.lowercased())
                current = ""
            }
        }
        if !current.isEmpty { out.append(current.lowercased()) }
        return out
    }

    /// Levenshtein distance between `a` and `b` over characters (insert, delete, substitute: 1 each).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        RecipeSpec.editDistance(a, b, transpositions: false)
    }

    /// FNV-1a hash of the UTF-8 bytes: stable across runs and machines (unlike `Hasher`).
    public static func stableHash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    /// Whether `text` belongs to the held-out split: one text in ten, by stable hash.
    static func isHeldOut(_ text: String) -> Bool { stableHash(text) % 10 == 0 }

    /// Draws `count` distinct items of `split` from `make`, by rejection on the split hash.
    ///
    /// Falls back to repeats only when `attempts` draws found too few distinct items.
    static func drawSplit(count: Int, split: TaskSplit, seed: UInt64, label: String,
                          make: (inout SeededRandom) -> String) -> [String] {
        var rng = SeededRandom(seed: seed).derived(label + "/" + split.rawValue)
        var seen = Set<String>(), out: [String] = []
        var attempts = 0
        let maxAttempts = max(1000, count * 50)
        while out.count < count && attempts < maxAttempts {
            attempts += 1
            let text = make(&rng)
            guard isHeldOut(text) == (split == .heldOut) else { continue }
            if seen.insert(text).inserted { out.append(text) }
        }
        var i = 0
        while out.count < count && !out.isEmpty {  // pool smaller than count: cycle in order
            out.append(out[i]); i += 1
        }
        return out
    }
}
