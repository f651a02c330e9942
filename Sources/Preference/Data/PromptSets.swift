import Foundation
import Randomness
import DataSpecs

extension DatasetCatalog {
    /// The prompts of `spec`, drawn deterministically from `seed`.
    public func loadPrompts(_ spec: PromptSetSpec, seed: UInt64) throws -> [Prompt] {
        let kinds = [spec.dataset != nil, spec.file != nil, spec.mix != nil].filter { $0 }.count
        guard kinds == 1 else { throw DatasetError(file: "prompt set", "give exactly one of dataset, file or mix") }
        if let mix = spec.mix { return try loadMix(mix, total: spec.size, seed: seed) }
        var prompts: [Prompt]
        let label: String
        if let name = spec.dataset {
            let d = try load(name, seed: seed)
            label = name
            switch spec.split ?? "train" {
            case "train": prompts = d.prompts
            case "held_out": prompts = dataDistinctPrompts(d.heldOut)
            default: throw DatasetError(file: "prompt set", "split must be train or held_out, found '\(spec.split ?? "")'")
            }
        } else {
            label = spec.file ?? ""
            prompts = try promptsFromFile(spec.file ?? "", field: spec.field)
        }
        guard let n = spec.size else { return prompts }
        guard n <= prompts.count else {
            throw DatasetError(file: label, "prompt set asks \(n) prompts, the source has \(prompts.count)")
        }
        return dataSampledIndices(prompts.count, n, seed: seed, label: "prompts/\(label)").map { prompts[$0] }
    }

    /// A weighted mix: `total` split by largest remainder, each part sampled, then shuffled together.
    func loadMix(_ parts: [PromptMixPart], total: Int?, seed: UInt64) throws -> [Prompt] {
        guard let total else { throw DatasetError(file: "prompt set", "a mix needs size: the total number of prompts") }
        guard !parts.isEmpty, parts.allSatisfy({ $0.weight > 0 }) else {
            throw DatasetError(file: "prompt set", "a mix needs parts with positive weights")
        }
        let counts = dataAllocate(total, weights: parts.map(\.weight))
        var out: [Prompt] = []
        for (i, part) in parts.enumerated() {
            var p = part.prompts
            p.size = counts[i]
            var subRng = SeededRandom(seed: seed).derived("mix/\(i)")
            let sub = subRng.next()
            out += try loadPrompts(p, seed: sub)
        }
        var rng = SeededRandom(seed: seed).derived("mix/shuffle")
        return out.shuffled(using: &rng)
    }

    /// Prompts from a text file (one per non-blank line) or a JSONL file's `field`; gzip allowed.
    func promptsFromFile(_ path: String, field: String?) throws -> [Prompt] {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
        let stem = url.deletingPathExtension().lastPathComponent
        if let field {
            let (records, problems) = try DataRecordReader.read(url: url, display: path, format: .jsonl, maxRecordBytes: 1 << 20)
            if let p = problems.first { throw DatasetError(file: path, line: p.line, p.message) }
            return try records.map { r in
                do {
                    var prompt = try DataRowMapping.prompt(r.fields, field)
                    prompt.source = prompt.source ?? stem
                    return prompt
                } catch let e as DataRowError {
                    throw DatasetError(file: path, line: r.line, e.message)
                }
            }
        }
        guard var data = try? Data(contentsOf: url) else { throw DatasetError(file: path, "cannot read the prompt file") }
        if DataGzip.isGzip(data) {
            let (out, problem) = DataGzip.inflate(data)
            if let problem { throw DatasetError(file: path, problem) }
            data = out
        }
        guard let text = String(data: data, encoding: .utf8) else { throw DatasetError(file: path, "the prompt file is not UTF-8") }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { Prompt($0, source: stem) }
    }
}

/// Splits `total` by `weights`: floors first, the remainder to the largest fractions (earlier first on ties).
func dataAllocate(_ total: Int, weights: [Double]) -> [Int] {
    let sum = weights.reduce(0, +)
    let exact = weights.map { Double(total) * $0 / sum }
    var counts = exact.map { Int($0.rounded(.down)) }
    let order = exact.indices.sorted { (exact[$0] - exact[$0].rounded(.down), -$0) > (exact[$1] - exact[$1].rounded(.down), -$1) }
    for i in order.prefix(total - counts.reduce(0, +)) { counts[i] += 1 }
    return counts
}
