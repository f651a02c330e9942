import Foundation
import Randomness
import DataSpecs

extension DatasetLoader {
    /// Rated prompts to pairs: filters, generator selection, then one pair per prompt by the strategy.
    ///
    /// `overall` and `fine_grained_mean`: chosen is a best-scoring response (ties broken at random),
    /// rejected a random response with a strictly lower score. `best_vs_worst`: a random best vs a
    /// random worst. A prompt with no strictly lower response is a tie.
    mutating func binarize(_ groups: [DataRatedGroup], seed: UInt64) throws -> [DataCandidate] {
        var kept: [DataRatedGroup] = []
        for var g in groups {
            if let (reason, msg) = promptProblem(g.prompt) {
                try skip(reason, g.origin, msg)
                continue
            }
            var rs: [RatedResponse] = []
            for r in g.responses {
                if let (reason, msg) = responseProblem(r.text, "\(r.generator)'s") { try skip(reason, r.origin, msg) } else { rs.append(r) }
            }
            g.responses = rs
            kept.append(g)
        }
        report.generators = generatorMeans(kept)
        let allowed = allowedGenerators()
        var rng = SeededRandom(seed: seed).derived("binarize")
        var out: [DataCandidate] = []
        for var g in kept {
            if let allowed {
                for r in g.responses where !allowed.contains(r.generator) {
                    report.skip(.otherGenerator, "\(r.origin): generator '\(r.generator)' is not selected")
                }
                g.responses.removeAll { !allowed.contains($0.generator) }
            }
            guard g.responses.count >= 2 else {
                report.skip(.tooFewResponses, "\(g.origin): \(g.responses.count) usable response(s), need 2")
                continue
            }
            if let c = pick(g, &rng) { out.append(c) }
        }
        return out
    }

    /// Chosen and rejected for one prompt, or nil (a counted tie).
    mutating func pick(_ g: DataRatedGroup, _ rng: inout SeededRandom) -> DataCandidate? {
        let scores = g.responses.map(\.score)
        guard let top = scores.max(), let bottom = scores.min() else { return nil }
        let best = g.responses.indices.filter { scores[$0] == top }
        var lower: [Int]
        if spec.binarize.strategy == .bestVsWorst {
            lower = g.responses.indices.filter { scores[$0] == bottom && scores[$0] < top }
        } else {
            lower = g.responses.indices.filter { scores[$0] < top }
        }
        let c = best[rng.nextInt(best.count)]
        // The same text from another generator is not a different response: never pair a text with itself.
        lower.removeAll { g.responses[$0].text == g.responses[c].text }
        if lower.isEmpty {
            // No strictly lower, different response: a tie, kept only when ties are not dropped.
            let others = best.filter { g.responses[$0].text != g.responses[c].text }
            guard !spec.filters.dropTies, !others.isEmpty else {
                report.skip(.tie, "\(g.origin): no response scores below \(top) with a different text")
                return nil
            }
            lower = others
        }
        let r = lower[rng.nextInt(lower.count)]
        let chosen = g.responses[c], rejected = g.responses[r]
        let pair = PreferencePair(prompt: g.prompt, chosen: chosen.text, rejected: rejected.text,
                                  margin: chosen.score - rejected.score)
        return DataCandidate(pair: pair, origin: g.origin)
    }

    /// Mean score per generator, best first (name breaks ties), with strength groups when asked.
    func generatorMeans(_ groups: [DataRatedGroup]) -> [GeneratorScore] {
        var sum: [String: Double] = [:], count: [String: Int] = [:]
        for g in groups {
            for r in g.responses {
                sum[r.generator, default: 0] += r.score
                count[r.generator, default: 0] += 1
            }
        }
        var list = sum.keys.map { GeneratorScore(name: $0, mean: sum[$0, default: 0] / Double(count[$0, default: 1]),
                                                 responses: count[$0, default: 0], group: nil) }
        list.sort { $0.mean != $1.mean ? $0.mean > $1.mean : $0.name < $1.name }
        if let groups = spec.binarize.generatorGroups {
            // Even buckets, the first ones one larger when the count does not divide: 53 → 18, 18, 17.
            let base = list.count / groups, extra = list.count % groups
            var i = 0
            for b in 0..<groups {
                for _ in 0..<(base + (b < extra ? 1 : 0)) where i < list.count {
                    list[i].group = b + 1
                    i += 1
                }
            }
        }
        return list
    }

    /// The generators a binarization may use, or nil for all.
    func allowedGenerators() -> Set<String>? {
        var allowed: Set<String>?
        if let g = spec.binarize.generators { allowed = Set(g) }
        if let group = spec.binarize.generatorGroup {
            let inGroup = Set(report.generators.filter { $0.group == group }.map(\.name))
            allowed = allowed.map { $0.intersection(inGroup) } ?? inGroup
        }
        return allowed
    }
}
