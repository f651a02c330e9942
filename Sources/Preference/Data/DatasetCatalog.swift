import Foundation
import DataSpecs

/// A loaded catalogue entry: train and held-out pairs (disjoint by prompt), prompts, and what happened.
public struct LoadedDataset: Sendable {
    /// The catalogue entry.
    public var name: String
    /// Training pairs.
    public var train: [PreferencePair]
    /// Held-out pairs; no prompt here appears in `train`.
    public var heldOut: [PreferencePair]
    /// Prompt entries: their prompts; pair entries: the distinct prompts of `train`.
    public var prompts: [Prompt]
    /// Prompt entries with a reference answer: the checkable items (GSM8K).
    public var verifiable: [VerifiableItem]
    /// Counts, skips and notes.
    public var report: LoadReport
}

/// Loading entries (the index and its parsing are in DataSpecs, which the stage catalogue reads without compute).
extension DatasetCatalog {
    /// Loads an entry; every random draw (binarization, split, sampling, mixing) comes from `seed`.
    public func load(_ name: String, seed: UInt64) throws -> LoadedDataset {
        try load(name, seed: seed, stack: [], cache: DataRecordCache())
    }

    func load(_ name: String, seed: UInt64, stack: [String], cache: DataRecordCache) throws -> LoadedDataset {
        let spec = try self.spec(name)
        guard let entry = entries[name] else { throw DatasetError(file: name, "no such entry") }
        if spec.layout == .mixture { return try loadMixture(spec, entry, seed: seed, stack: stack + [name], cache: cache) }
        guard let source = spec.source else { throw DatasetError(file: entry.display, "missing source") }
        if let problem = confinementProblem(sourceURL(source, entry: entry), allowOutside: source.allowOutside ?? false) {
            throw DatasetError(file: entry.display, line: source.pathLine, column: source.pathColumn, problem)
        }
        var loader = DatasetLoader(spec: spec, sourceURL: sourceURL(source, entry: entry), sourceDisplay: source.path, cache: cache)
        loader.entryDisplay = entry.display
        return try loader.load(seed: seed)
    }

    /// Loads each entry and says whether it loaded, with its report or its error.
    public func validateAll(seed: UInt64 = 0) -> [(name: String, result: Result<LoadReport, DatasetError>)] {
        let cache = DataRecordCache()
        return names.map { name in
            (name, Result { try load(name, seed: seed, stack: [], cache: cache).report }
                .mapError { $0 as? DatasetError ?? DatasetError(file: name, "\($0)") })
        }
    }

    /// A mixture: `size` seeded train pairs from each component, held-out pairs from all components.
    func loadMixture(_ spec: DatasetSpec, _ entry: Entry, seed: UInt64, stack: [String], cache: DataRecordCache) throws -> LoadedDataset {
        var report = LoadReport(name: spec.name)
        var train: [PreferencePair] = [], heldOut: [PreferencePair] = []
        for c in spec.mixture ?? [] {
            guard entries[c.dataset] != nil else {
                let hint = dataDidYouMean(c.dataset, names).map { " (did you mean '\($0)'?)" } ?? ""
                throw DatasetError(file: entry.display, "mixture component '\(c.dataset)' is not in the catalogue\(hint)")
            }
            if stack.contains(c.dataset) {
                throw DatasetError(file: entry.display, "mixture cycle: \((stack + [c.dataset]).joined(separator: " → "))")
            }
            let d = try load(c.dataset, seed: seed, stack: stack, cache: cache)
            let size = c.size ?? d.train.count
            guard size <= d.train.count else {
                throw DatasetError(file: entry.display, "mixture asks \(size) train pairs of '\(c.dataset)', which has \(d.train.count)")
            }
            train += dataSampledIndices(d.train.count, size, seed: seed, label: "mixture/\(c.dataset)").map { d.train[$0] }
            heldOut += d.heldOut
            report.absorb(d.report)
            report.notes.append("\(c.dataset): \(size) of \(d.train.count) train pairs, \(d.heldOut.count) held-out")
        }
        train = Self.removeOverlaps(train, heldOut: heldOut, dedup: spec.dedup, report: &report)
        if let h = spec.heldOut {
            let (t, extra) = dataSplitByPrompt(train, h, seed: seed)
            train = t
            heldOut += extra
        }
        if let n = spec.sample, n < train.count {
            report.downsampledFrom = train.count
            train = dataSampledIndices(train.count, n, seed: seed).map { train[$0] }
        }
        report.kept = train.count + heldOut.count
        report.notes.append("train \(train.count), held-out \(heldOut.count)")
        return LoadedDataset(name: spec.name, train: train, heldOut: heldOut, prompts: dataDistinctPrompts(train),
                             verifiable: [], report: report)
    }

    /// Drops train pairs whose prompt another component holds out, then (with `dedup`) repeats across components.
    static func removeOverlaps(_ train: [PreferencePair], heldOut: [PreferencePair], dedup: Bool,
                               report: inout LoadReport) -> [PreferencePair] {
        let held = Set(heldOut.map(\.prompt.messages))
        var seen = Set<DedupKey>()
        var out: [PreferencePair] = []
        for p in train {
            if held.contains(p.prompt.messages) {
                report.skip(.heldOutOverlap, "\(p.prompt.source ?? "?"): prompt is held out by another component")
            } else if dedup && !seen.insert(DedupKey(p)).inserted {
                report.skip(.duplicate, "\(p.prompt.source ?? "?"): pair repeated across components")
            } else {
                out.append(p)
            }
        }
        return out
    }
}
