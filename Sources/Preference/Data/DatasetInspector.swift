import Foundation

/// Renders a loaded dataset for people: counts, length histograms, skips by reason, examples.
public enum DatasetInspector {
    /// A text report; `examples` pairs (or prompts) are shown, cut to 200 characters per field.
    public static func render(_ d: LoadedDataset, examples: Int) -> String {
        let r = d.report
        var out = "dataset \(d.name)\n"
        out += "rows read \(r.rowsRead), kept \(r.kept): train \(d.train.count), held-out \(d.heldOut.count)"
        if !d.verifiable.isEmpty || (d.train.isEmpty && !d.prompts.isEmpty) {
            out += ", prompts \(d.prompts.count), verifiable \(d.verifiable.count)"
        }
        out += "\n"
        if let from = r.downsampledFrom { out += "downsampled from \(from)\n" }
        out += "ties \(r.ties)\n"
        if !r.skipped.isEmpty {
            out += "skipped:\n"
            for s in r.skipped {
                out += "  \(s.reason.rawValue) \(s.count)\(s.reason.isMalformed ? " (malformed)" : "")\n"
                for e in s.examples { out += "    \(clip(e, 160))\n" }
            }
        }
        for n in r.notes { out += "note: \(n)\n" }
        if !r.generators.isEmpty {
            out += "generators (mean score, responses, group):\n"
            for g in r.generators {
                out += "  \(g.name.padding(toLength: 34, withPad: " ", startingAt: 0)) "
                    + String(format: "%.3f", g.mean) + "  \(g.responses)" + (g.group.map { "  g\($0)" } ?? "") + "\n"
            }
        }
        let all = d.train + d.heldOut
        if !all.isEmpty {
            out += histogram("prompt length (whitespace tokens)", all.map { $0.prompt.messages.reduce(0) { $0 + whitespaceTokens($1.content) } })
            out += histogram("chosen length", all.map { whitespaceTokens($0.chosen) })
            out += histogram("rejected length", all.map { whitespaceTokens($0.rejected) })
        } else if !d.prompts.isEmpty {
            out += histogram("prompt length (whitespace tokens)", d.prompts.map { $0.messages.reduce(0) { $0 + whitespaceTokens($1.content) } })
        }
        out += renderExamples(d, examples)
        return out
    }

    static func renderExamples(_ d: LoadedDataset, _ n: Int) -> String {
        var out = ""
        for (i, p) in d.train.prefix(n).enumerated() {
            out += "example \(i + 1):\n"
            for m in p.prompt.messages { out += "  [\(m.role)] \(clip(m.content, 200))\n" }
            out += "  chosen:   \(clip(p.chosen, 200))\n  rejected: \(clip(p.rejected, 200))\n"
            if let m = p.margin { out += "  margin: \(m)\n" }
        }
        if d.train.isEmpty {
            for (i, p) in d.prompts.prefix(n).enumerated() {
                out += "prompt \(i + 1): \(clip(p.lastUserText, 200))\n"
                if i < d.verifiable.count { out += "  answer: \(d.verifiable[i].answer)\n" }
            }
        }
        return out
    }

    /// Power-of-two buckets (0, 1, 2-3, 4-7, …) as text bars scaled to 40 characters.
    static func histogram(_ title: String, _ values: [Int]) -> String {
        guard let maxV = values.max() else { return "" }
        var buckets: [Int] = []
        var lo = 0, hi = 0
        while lo <= maxV {
            buckets.append(values.filter { $0 >= lo && $0 <= hi }.count)
            lo = hi + 1
            hi = hi * 2 + 1
        }
        let peak = max(1, buckets.max() ?? 1)
        let sorted = values.sorted()
        var out = "\(title): min \(sorted.first ?? 0), median \(sorted[sorted.count / 2]), max \(maxV)\n"
        lo = 0
        hi = 0
        for c in buckets {
            let label = lo == hi ? "\(lo)" : "\(lo)-\(hi)"
            out += "  \(label.padding(toLength: 11, withPad: " ", startingAt: 0)) "
                + String(repeating: "#", count: (c * 40 + peak - 1) / peak).padding(toLength: 40, withPad: " ", startingAt: 0)
                + " \(c)\n"
            lo = hi + 1
            hi = hi * 2 + 1
        }
        return out
    }

    static func clip(_ s: String, _ n: Int) -> String {
        let flat = s.replacingOccurrences(of: "\n", with: "⏎")
        return flat.count <= n ? flat : String(flat.prefix(n)) + "…"
    }
}
