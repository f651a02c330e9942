/// The candidate closest to `word` by Damerau-Levenshtein distance (case-insensitive), or nil
/// when none is within `max(2, word.count / 3)` edits (and fewer edits than `word` has
/// characters, so one-letter words get no wild guesses) or `word` is itself a candidate.
///
/// Ties go to the candidate listed first, so callers control preference by order.
public func didYouMean(_ word: String, among candidates: [String]) -> String? {
    guard !candidates.contains(word) else { return nil }
    let threshold = max(2, word.count / 3)
    let w = Array(word.lowercased())
    var best: (name: String, distance: Int)?
    for c in candidates {
        let d = editDistance(w, Array(c.lowercased()), transpositions: true)
        if d <= threshold, d < w.count, d < (best?.distance ?? Int.max) { best = (c, d) }
    }
    return best?.name
}

/// The package's one edit distance: insertions, deletions and substitutions (Levenshtein), plus adjacent
/// swaps when `transpositions` (optimal string alignment, for typo suggestions). Tasks score with plain
/// Levenshtein (`TaskText.editDistance`).
public func editDistance(_ a: String, _ b: String, transpositions: Bool) -> Int {
    editDistance(Array(a), Array(b), transpositions: transpositions)
}

func editDistance(_ a: [Character], _ b: [Character], transpositions: Bool) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    // d[i][j]: distance between a[..<i] and b[..<j]
    var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if transpositions, i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}
