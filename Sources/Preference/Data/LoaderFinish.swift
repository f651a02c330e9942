import Foundation
import Randomness
import DataSpecs

extension DatasetLoader {
    /// Reads, maps, filters, deduplicates, splits and samples this entry.
    mutating func load(seed: UInt64) throws -> LoadedDataset {
        let records = try readRecords()
        var candidates: [DataCandidate]
        switch spec.layout {
        case .pair: candidates = try mapPairs(records)
        case .rated: candidates = try binarize(try mapRated(records), seed: seed)
        case .ratedRows: candidates = try binarize(try groupRatedRows(records), seed: seed)
        case .prompts: return try loadPrompts(records, seed: seed)
        case .mixture: throw DatasetError(file: spec.name, "a mixture is loaded by the catalogue")
        }
        if spec.dedup { candidates = dedup(candidates) }
        var (train, heldOut) = split(candidates.map(\.pair), seed: seed)
        train = sample(train, seed: seed)
        report.kept = train.count + heldOut.count
        try requireRows()
        report.notes.append("train \(train.count), held-out \(heldOut.count)")
        return LoadedDataset(name: spec.name, train: train, heldOut: heldOut, prompts: dataDistinctPrompts(train),
                             verifiable: [], report: report)
    }

    mutating func loadPrompts(_ records: [DataRecord], seed: UInt64) throws -> LoadedDataset {
        var (prompts, items) = try mapPrompts(records)
        if let n = spec.sample, n < prompts.count {
            report.downsampledFrom = prompts.count
            let keep = dataSampledIndices(prompts.count, n, seed: seed)
            prompts = keep.map { prompts[$0] }
            if !items.isEmpty { items = keep.map { items[$0] } }
        }
        report.kept = prompts.count
        try requireRows()
        return LoadedDataset(name: spec.name, train: [], heldOut: [], prompts: prompts, verifiable: items, report: report)
    }

    /// An entry that keeps nothing is an error, not an empty dataset a trainer would fail on later
    /// (or, worse, a table cell computed from nothing).
    func requireRows() throws {
        guard report.kept == 0, spec.source != nil else { return }
        let reasons = report.skipped.map { "\($0.count) \($0.reason.rawValue)" }.joined(separator: ", ")
        let example = report.skipped.first?.examples.first.map { " (first: \($0))" } ?? ""
        throw DatasetError(file: entryDisplay, "the entry keeps no rows: \(report.rowsRead) read"
                           + (reasons.isEmpty ? "" : ", skipped: \(reasons)\(example)") + "; check the source's format and the field mapping")
    }

    /// Drops pairs with the same prompt, chosen and rejected as an earlier pair.
    mutating func dedup(_ cs: [DataCandidate]) -> [DataCandidate] {
        var seen = Set<DedupKey>()
        return cs.filter { c in
            if seen.insert(DedupKey(c.pair)).inserted { return true }
            report.skip(.duplicate, "\(c.origin): same prompt, chosen and rejected as an earlier pair")
            return false
        }
    }

    /// Holds out a seeded choice of distinct prompts with all their pairs.
    func split(_ pairs: [PreferencePair], seed: UInt64) -> ([PreferencePair], [PreferencePair]) {
        guard let h = spec.heldOut else { return (pairs, []) }
        return dataSplitByPrompt(pairs, h, seed: seed)
    }

    /// Seeded downsampling of the train pairs to `sample`, keeping file order.
    mutating func sample(_ pairs: [PreferencePair], seed: UInt64) -> [PreferencePair] {
        guard let n = spec.sample, n < pairs.count else { return pairs }
        report.downsampledFrom = pairs.count
        return dataSampledIndices(pairs.count, n, seed: seed).map { pairs[$0] }
    }
}

/// Identity of a pair for deduplication (the margin does not count).
struct DedupKey: Hashable {
    var prompt: [ChatMessage]
    var chosen: String
    var rejected: String
    init(_ p: PreferencePair) {
        prompt = p.prompt.messages
        chosen = p.chosen
        rejected = p.rejected
    }
}

/// `k` of `n` indices drawn without replacement from the seed's "sample" stream, in ascending order.
func dataSampledIndices(_ n: Int, _ k: Int, seed: UInt64, label: String = "sample") -> [Int] {
    var rng = SeededRandom(seed: seed).derived(label)
    return Array(Array(0..<n).shuffled(using: &rng).prefix(k)).sorted()
}

/// Splits pairs so that every prompt is wholly in train or wholly held out.
func dataSplitByPrompt(_ pairs: [PreferencePair], _ h: HeldOutSpec, seed: UInt64) -> ([PreferencePair], [PreferencePair]) {
    let prompts = dataDistinctPrompts(pairs).map(\.messages)
    let k = h.count.map { min($0, prompts.count) } ?? Int((Double(prompts.count) * (h.fraction ?? 0)).rounded())
    let held = Set(dataSampledIndices(prompts.count, k, seed: seed, label: "held_out").map { prompts[$0] })
    var train: [PreferencePair] = [], out: [PreferencePair] = []
    for p in pairs {
        if held.contains(p.prompt.messages) { out.append(p) } else { train.append(p) }
    }
    return (train, out)
}

/// Prompts in first-appearance order, each once (by their turns).
func dataDistinctPrompts(_ pairs: [PreferencePair]) -> [Prompt] {
    var seen = Set<[ChatMessage]>()
    return pairs.compactMap { seen.insert($0.prompt.messages).inserted ? $0.prompt : nil }
}
