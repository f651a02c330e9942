import Foundation

/// One scored response of a rated prompt.
struct RatedResponse {
    var text: String
    var generator: String
    var score: Double
    var origin: RowOrigin
}

/// A prompt with its scored responses, before binarization.
struct DataRatedGroup {
    var prompt: Prompt
    var responses: [RatedResponse]
    var origin: RowOrigin
}

extension DatasetLoader {
    /// `layout: pair`: one pair per record, filtered.
    mutating func mapPairs(_ records: [DataRecord]) throws -> [DataCandidate] {
        let f = spec.fields
        var out: [DataCandidate] = []
        var labels = LabelCheck()
        for r in records {
            let origin = RowOrigin(file: r.file, line: r.line)
            do {
                var prompt: Prompt, chosen: String, rejected: String
                if let p = f.prompt {
                    prompt = try DataRowMapping.prompt(r.fields, p)
                    chosen = try DataRowMapping.response(r.fields, f.chosen ?? "chosen")
                    rejected = try DataRowMapping.response(r.fields, f.rejected ?? "rejected")
                } else {
                    let c = try DataRowMapping.require(r.fields, f.chosen ?? "chosen")
                    let j = try DataRowMapping.require(r.fields, f.rejected ?? "rejected")
                    (prompt, chosen, rejected) = try HHDialogue.split(chosen: c, rejected: j, chosenPath: f.chosen ?? "chosen",
                                                                   rejectedPath: f.rejected ?? "rejected")
                }
                prompt.source = try category(r)
                guard let (swapped, scoreMargin) = try orientPair(r.fields, origin, &labels) else { continue }
                if swapped { swap(&chosen, &rejected) }
                var margin = scoreMargin
                if let m = f.margin { margin = try DataRowMapping.score(r.fields, m, nil) }
                if let (reason, msg) = promptProblem(prompt) ?? responseProblem(chosen, "chosen")
                    ?? responseProblem(rejected, "rejected") {
                    try skip(reason, origin, msg)
                    continue
                }
                if spec.filters.dropTies && chosen == rejected {
                    try skip(.tie, origin, "chosen and rejected are the same text")
                    continue
                }
                out.append(DataCandidate(pair: PreferencePair(prompt: prompt, chosen: chosen, rejected: rejected, margin: margin),
                                     origin: origin))
            } catch let e as DataRowError {
                try skip(e.reason, origin, e.message)
            }
        }
        try checkLabels(labels)
        return out
    }

    /// `layout: rated`: each record is a prompt with a list of scored responses.
    mutating func mapRated(_ records: [DataRecord]) throws -> [DataRatedGroup] {
        let f = spec.fields
        var groups: [DataRatedGroup] = []
        for r in records {
            let origin = RowOrigin(file: r.file, line: r.line)
            do {
                var prompt = try DataRowMapping.prompt(r.fields, f.prompt ?? "prompt")
                prompt.source = try category(r)
                let list = try DataRowMapping.require(r.fields, f.responses ?? "responses")
                guard let items = list as? [Any] else {
                    throw DataRowError(.wrongType, "field '\(f.responses ?? "")' should be a list of responses, found \(dataJSONTypeName(list))")
                }
                var responses: [RatedResponse] = []
                for (i, item) in items.enumerated() {
                    do {
                        guard let obj = item as? [String: Any] else {
                            throw DataRowError(.wrongType, "response \(i) should be an object, found \(dataJSONTypeName(item))")
                        }
                        if let s = try scoredResponse(obj, generator: r.generator, origin: origin, index: i) { responses.append(s) }
                    } catch let e as DataRowError {
                        try skip(e.reason, origin, "response \(i): \(e.message)")
                    }
                }
                groups.append(DataRatedGroup(prompt: prompt, responses: responses, origin: origin))
            } catch let e as DataRowError {
                try skip(e.reason, origin, e.message)
            }
        }
        return groups
    }

    /// `layout: rated_rows`: each record is one scored response; records with the same prompt form a group.
    mutating func groupRatedRows(_ records: [DataRecord]) throws -> [DataRatedGroup] {
        var groups: [DataRatedGroup] = []
        var index: [Prompt: Int] = [:]
        for r in records {
            let origin = RowOrigin(file: r.file, line: r.line)
            do {
                var prompt = try DataRowMapping.prompt(r.fields, spec.fields.prompt ?? "prompt")
                prompt.source = try category(r)
                guard let s = try scoredResponse(r.fields, generator: r.generator, origin: origin, index: nil) else { continue }
                if let g = index[prompt] {
                    groups[g].responses.append(s)
                } else {
                    index[prompt] = groups.count
                    groups.append(DataRatedGroup(prompt: prompt, responses: [s], origin: origin))
                }
            } catch let e as DataRowError {
                try skip(e.reason, origin, e.message)
            }
        }
        return groups
    }

    /// A response with its score by the entry's scoring; nil (counted) when unscored.
    mutating func scoredResponse(_ obj: [String: Any], generator: String?, origin: RowOrigin, index: Int?) throws -> RatedResponse? {
        let f = spec.fields
        let text = try DataRowMapping.response(obj, f.response ?? "response")
        let gen = try generator ?? f.generator.map { try DataRowMapping.string(obj, $0) } ?? "unknown"
        let b = spec.binarize
        let kind = b.strategy == .bestVsWorst ? (b.score ?? (f.overall != nil ? .overall : .fineGrainedMean)) : b.strategy
        var score: Double?
        if kind == .overall, let path = f.overall {
            score = try DataRowMapping.score(obj, path, spec.scoreMap)
        } else if let aspects = f.aspects {
            // Mean over the aspects that are scored; an aspect that is null or "N/A" does not count.
            let values = try aspects.keys.sorted().compactMap { try DataRowMapping.score(obj, aspects[$0] ?? $0, spec.scoreMap) }
            score = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        guard let score else {
            let which = index.map { "response \($0) " } ?? ""
            try skip(.unscored, origin, "\(which)has no score (null)")
            return nil
        }
        return RatedResponse(text: text, generator: gen, score: score, origin: origin)
    }

    /// `layout: prompts`: prompts, and reference answers when mapped.
    mutating func mapPrompts(_ records: [DataRecord]) throws -> ([Prompt], [VerifiableItem]) {
        var prompts: [Prompt] = []
        var items: [VerifiableItem] = []
        for r in records {
            let origin = RowOrigin(file: r.file, line: r.line)
            do {
                var prompt = try DataRowMapping.prompt(r.fields, spec.fields.prompt ?? "prompt")
                prompt.source = try category(r)
                if let (reason, msg) = promptProblem(prompt) {
                    try skip(reason, origin, msg)
                    continue
                }
                if let path = spec.fields.answer {
                    let text = try DataRowMapping.string(r.fields, path)
                    let format = spec.answerFormat ?? .exact
                    guard let answer = format.referenceAnswer(text) else {
                        throw DataRowError(.badAnswer, "field '\(path)' has no \(format.rawValue) answer (GSM8K ends with '#### <number>')")
                    }
                    items.append(VerifiableItem(prompt: prompt, answer: answer, reference: text))
                }
                prompts.append(prompt)
            } catch let e as DataRowError {
                try skip(e.reason, origin, e.message)
            }
        }
        return (prompts, items)
    }
}
