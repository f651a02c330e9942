import Foundation

/// Model estimation and decoding for `POSTagger`: interpolation, suffixes, emissions, Viterbi.
extension POSTagger {
    /// TnT deleted interpolation of trigram counts: log P(c | a, b) over (S, S, S) and log P(t).
    static func interpolate(_ trigrams: [(Int, Int, Int, Double)], states s: Int) -> ([Double], [Double]) {
        var tri = [Double](repeating: 0, count: s * s * s)   // (S, S, S)
        var bi = [Double](repeating: 0, count: s * s)        // (S, S)
        var ctx2 = [Double](repeating: 0, count: s * s)      // (S, S)
        var uni = [Double](repeating: 0, count: s)           // (S)
        var ctx1 = [Double](repeating: 0, count: s)          // (S)
        for (a, b, c, n) in trigrams {
            tri[(a * s + b) * s + c] += n; bi[b * s + c] += n; ctx2[a * s + b] += n
            uni[c] += n; ctx1[b] += n
        }
        let total = max(1, uni.reduce(0, +))
        var lambda = [0.0, 0.0, 0.0]
        for (a, b, c, n) in trigrams {
            let c3 = ctx2[a * s + b] > 1 ? (tri[(a * s + b) * s + c] - 1) / (ctx2[a * s + b] - 1) : 0
            let c2 = ctx1[b] > 1 ? (bi[b * s + c] - 1) / (ctx1[b] - 1) : 0
            let c1 = (uni[c] - 1) / max(1, total - 1)
            if c3 >= c2 && c3 >= c1 { lambda[2] += n } else if c2 >= c1 { lambda[1] += n } else { lambda[0] += n }
        }
        let sum = max(1, lambda.reduce(0, +))
        lambda = lambda.map { $0 / sum }
        var logTrans = [Double](repeating: 0, count: s * s * s)
        for a in 0..<s { for b in 0..<s { for c in 0..<s {
            let p3 = ctx2[a * s + b] > 0 ? tri[(a * s + b) * s + c] / ctx2[a * s + b] : 0
            let p2 = ctx1[b] > 0 ? bi[b * s + c] / ctx1[b] : 0
            let p = lambda[0] * uni[c] / total + lambda[1] * p2 + lambda[2] * p3
            logTrans[(a * s + b) * s + c] = log(max(p, 1e-9))
        } } }
        let prior = uni.map { log(max($0 / total, 1e-6)) }
        return (logTrans, prior)
    }

    /// P(tag | suffix) from the lexicon's rarer words, which unknown words resemble most.
    static func suffixes(lexicon: [String: [(tag: Int, logp: Double)]], logPrior: [Double],
                         states s: Int) -> ([String: [Double]], [Double]) {
        var table: [String: [Double]] = [:]
        var prior = [Double](repeating: 0, count: s)
        for (word, entries) in lexicon where word.first?.isLetter == true {
            let joint = entries.map { exp($0.logp + logPrior[$0.tag]) }
            let pw = joint.reduce(0, +)
            guard pw < 2e-6 else { continue }  // rare words only (TnT's choice)
            let chars = Array(word)
            for (k, e) in entries.enumerated() {
                let post = joint[k] / pw
                prior[e.tag] += post
                for len in 1...4 where chars.count > len + 1 {
                    let suffix = String(chars.suffix(len))
                    table[suffix, default: [Double](repeating: 0, count: s)][e.tag] += post
                }
            }
        }
        let normalized = table.filter { $0.value.reduce(0, +) >= 5 }.mapValues { row -> [Double] in
            let t = row.reduce(0, +)
            return row.map { $0 / t }
        }
        let total = max(1, prior.reduce(0, +))
        return (normalized, prior.map { $0 / total })
    }

    /// P(tag | word) for a word not in the lexicon, from its longest known suffix.
    func unknownDistribution(_ lower: String) -> [Double] {
        let chars = Array(lower)
        for len in stride(from: min(4, chars.count - 2), through: 1, by: -1) where len >= 1 {
            if let row = suffixModel[String(chars.suffix(len))] {
                return zip(row, unknownPrior).map { 0.9 * $0 + 0.1 * $1 }
            }
        }
        return unknownPrior
    }

    /// Candidate tags of the token at a position with their log emission scores.
    func candidates(_ token: String, sentenceInitial: Bool) -> [(tag: Int, score: Double)] {
        let lower = token.lowercased()
        let capitalized = token.first?.isUppercase == true
        let hasLetter = token.contains { $0.isLetter }, hasDigit = token.contains { $0.isNumber }
        let acronym = token.count >= 2 && hasLetter && !token.contains { $0.isLowercase }
        let nnp = index["nnp"] ?? 0, nnps = index["nnps"] ?? 0
        if var known = lexicon[lower] {
            if (capitalized && !sentenceInitial) || acronym, !known.contains(where: { $0.tag == nnp }) {
                known.append((nnp, acronym ? -6 : -12))  // "AI", "GPS": names the lexicon spells lowercase
            }
            return known.map { ($0.tag, $0.logp) }
        }
        var dist = [Double](repeating: 0, count: tags.count)
        func set(_ tag: String, _ p: Double) { dist[index[tag] ?? 0] += p }
        if !hasLetter && !hasDigit {
            set("punc", 0.97); set("sym", 0.03)
        } else if hasDigit && !hasLetter {
            set("cd", 0.9); set("jj", 0.05); set("nn", 0.05)
        } else if hasDigit {  // "Cas9", "v2", "mp3": mostly names of things
            if capitalized { set("nnp", 0.8); set("nn", 0.2) } else { set("nn", 0.6); set("cd", 0.3); set("jj", 0.1) }
        } else {
            let base = unknownDistribution(lower)
            let proper = acronym ? 0.9 : capitalized ? (sentenceInitial ? 0.3 : 0.85) : 0
            dist = base.map { $0 * (1 - proper) }
            dist[lower.hasSuffix("s") && !acronym ? nnps : nnp] += proper
        }
        let unknownLogP = -12.0  // log P(word) shared by every tag at this position
        return dist.enumerated().filter { $0.element > 0.005 && $0.offset != 0 }
            .map { ($0.offset, log($0.element) - logPrior[$0.offset] + unknownLogP) }
    }

    /// The most likely tag sequence for one sentence (second-order Viterbi).
    func viterbi(_ tokens: [String]) -> [String] {
        guard !tokens.isEmpty else { return [] }
        let s = tags.count
        var cands: [[(tag: Int, score: Double)]] = [[(0, 0)], [(0, 0)]]
        for (i, token) in tokens.enumerated() {
            let initial = i == 0 || !tokens[i - 1].contains(where: { $0.isLetter || $0.isNumber })
            cands.append(candidates(token, sentenceInitial: initial))
        }
        // delta[k][p][c]: best log score with tag cands[k-1][p] then cands[k][c]; back[k][p][c] = q
        var delta: [[[Double]]] = [[[0]]]
        var back: [[[Int]]] = [[[0]]]
        for k in 2..<cands.count {
            let prevDelta = delta[delta.count - 1]
            var d = [[Double]](repeating: [], count: cands[k - 1].count)
            var bk = [[Int]](repeating: [], count: cands[k - 1].count)
            for (p, pt) in cands[k - 1].enumerated() {
                for ct in cands[k] {
                    var best = -Double.infinity, arg = 0
                    for (q, qt) in cands[k - 2].enumerated() {
                        let v = prevDelta[q][p] + logTransition[(qt.tag * s + pt.tag) * s + ct.tag]
                        if v > best { best = v; arg = q }
                    }
                    d[p].append(best + ct.score); bk[p].append(arg)
                }
            }
            delta.append(d); back.append(bk)
        }
        let last = cands.count - 1
        var best = -Double.infinity, bp = 0, bc = 0
        for (p, pt) in cands[last - 1].enumerated() {
            for (c, ct) in cands[last].enumerated() {
                let v = delta[last - 1][p][c] + logTransition[(pt.tag * s + ct.tag) * s + 0]
                if v > best { best = v; bp = p; bc = c }
            }
        }
        var path = [bc]
        var (p, c) = (bp, bc)
        for k in stride(from: last, to: 2, by: -1) {
            let q = back[k - 1][p][c]
            path.append(p); (p, c) = (q, p)
        }
        return zip(path.reversed(), cands[2...]).map { ptb($0.1[$0.0].tag) }
    }
}
