import Foundation

/// Reads a catalogue YAML into a `DatasetSpec`, checking keys, types and required fields.
enum DataSpecParser {
    static let topKeys = ["description", "source", "layout", "fields", "score_map", "binarize", "filters",
                          "on_error", "dedup", "sample", "held_out", "mixture", "answer_format"]

    static func parse(_ root: DataYAMLNode, name: String) throws -> DatasetSpec {
        let m = try root.mapping("a catalogue entry", allowed: topKeys)
        let isMixture = m["mixture"] != nil
        var layout = DatasetSpec.Layout.mixture
        if isMixture {
            if let s = m["source"] { throw s.error("a mixture takes its rows from its components: remove 'source'") }
            if let l = m["layout"] { throw l.error("a mixture has no layout of its own: remove 'layout'") }
        } else {
            guard m["source"] != nil else { throw root.error("missing 'source': where are the rows? (or give 'mixture')") }
            guard let l = m["layout"] else { throw root.error("missing 'layout': one of pair, rated, rated_rows, prompts") }
            layout = DatasetSpec.Layout(rawValue: try l.choice("layout", ["pair", "rated", "rated_rows", "prompts"])) ?? .pair
        }
        let fields = try m["fields"].map(parseFields) ?? FieldMap()
        if !isMixture { try checkFields(fields, layout: layout, at: m["fields"] ?? root) }
        if fields.label != nil && m["score_map"] == nil {
            throw (m["fields"] ?? root).error("fields.label needs a score_map: raw label → +1 (keep), -1 (swap) or 0 (tie)")
        }
        var spec = DatasetSpec(
            name: name, description: try m["description"]?.string("description"),
            source: try m["source"].map(parseSource), layout: layout, fields: fields, scoreMap: nil,
            binarize: try parseBinarize(m["binarize"], fields: fields, layout: layout),
            filters: try m["filters"].map(parseFilters) ?? FilterSpec(),
            onError: .skip, dedup: try m["dedup"]?.bool("dedup") ?? true, sample: nil, heldOut: nil,
            mixture: try m["mixture"].map(parseMixture), answerFormat: nil)
        if let e = m["on_error"] { spec.onError = DatasetSpec.OnError(rawValue: try e.choice("on_error", ["skip", "fail"])) ?? .skip }
        if let s = m["sample"] {
            spec.sample = try s.int("sample")
            if (spec.sample ?? 0) < 1 { throw s.error("sample must be at least 1") }
        }
        if let h = m["held_out"] { spec.heldOut = try parseHeldOut(h) }
        if let a = m["answer_format"] { spec.answerFormat = AnswerFormat(rawValue: try a.choice("answer_format", ["gsm8k", "exact"])) }
        if let sm = m["score_map"] {
            var map: [String: Double] = [:]
            for (k, v) in try sm.pairs("score_map") { map[k] = try v.double("score_map['\(k)']") }
            spec.scoreMap = map
        }
        return spec
    }

    static func parseSource(_ n: DataYAMLNode) throws -> SourceSpec {
        let m = try n.mapping("source", allowed: ["path", "relative_to", "format", "pattern",
                                                  "generator_from_filename", "max_line_bytes", "allow_outside"])
        guard let path = m["path"] else { throw n.error("source needs 'path' (a file or folder)") }
        var spec = SourceSpec(path: try path.string("source.path"), relativeTo: "root", format: nil, pattern: "*",
                              generatorFromFilename: false, maxLineBytes: 1 << 20,
                              pathLine: path.node.location?.line, pathColumn: path.node.location?.column)
        if let r = m["relative_to"] { spec.relativeTo = try r.choice("source.relative_to", ["root", "file"]) }
        if let f = m["format"] { spec.format = try f.choice("source.format", DataFileFormat.allCases.map(\.rawValue)) }
        if let p = m["pattern"] { spec.pattern = try p.string("source.pattern") }
        if let g = m["generator_from_filename"] { spec.generatorFromFilename = try g.bool("source.generator_from_filename") }
        if let a = m["allow_outside"] { spec.allowOutside = try a.bool("source.allow_outside") }
        if let b = m["max_line_bytes"] {
            spec.maxLineBytes = try b.int("source.max_line_bytes")
            if spec.maxLineBytes < 1 { throw b.error("source.max_line_bytes must be positive") }
        }
        return spec
    }

    static func parseFields(_ n: DataYAMLNode) throws -> FieldMap {
        let m = try n.mapping("fields", allowed: ["prompt", "chosen", "rejected", "margin", "responses", "response",
                                                  "generator", "overall", "aspects", "category", "answer", "label",
                                                  "chosen_score", "rejected_score"])
        var f = FieldMap()
        f.prompt = try m["prompt"]?.string("fields.prompt")
        f.chosen = try m["chosen"]?.string("fields.chosen")
        f.rejected = try m["rejected"]?.string("fields.rejected")
        f.margin = try m["margin"]?.string("fields.margin")
        f.responses = try m["responses"]?.string("fields.responses")
        f.response = try m["response"]?.string("fields.response")
        f.generator = try m["generator"]?.string("fields.generator")
        f.overall = try m["overall"]?.string("fields.overall")
        f.category = try m["category"]?.string("fields.category")
        f.answer = try m["answer"]?.string("fields.answer")
        f.label = try m["label"]?.string("fields.label")
        f.chosenScore = try m["chosen_score"]?.string("fields.chosen_score")
        f.rejectedScore = try m["rejected_score"]?.string("fields.rejected_score")
        if let a = m["aspects"] {
            var aspects: [String: String] = [:]
            for (k, v) in try a.pairs("fields.aspects") { aspects[k] = try v.string("fields.aspects.\(k)") }
            if aspects.isEmpty { throw a.error("fields.aspects needs at least one aspect: name → path") }
            f.aspects = aspects
        }
        return f
    }

    /// The fields each layout cannot do without.
    static func checkFields(_ f: FieldMap, layout: DatasetSpec.Layout, at n: DataYAMLNode) throws {
        func need(_ v: String?, _ key: String) throws {
            if v == nil { throw n.error("layout \(layout.rawValue) needs fields.\(key)") }
        }
        if f.label != nil && layout != .pair { throw n.error("fields.label applies to layout pair only") }
        if (f.chosenScore != nil || f.rejectedScore != nil) && layout != .pair {
            throw n.error("fields.chosen_score and rejected_score apply to layout pair only")
        }
        if (f.chosenScore == nil) != (f.rejectedScore == nil) {
            throw n.error("fields.chosen_score and fields.rejected_score go together (the scores of both sides)")
        }
        switch layout {
        case .pair:
            try need(f.chosen, "chosen")
            try need(f.rejected, "rejected")
        case .rated, .ratedRows:
            try need(f.prompt, "prompt")
            try need(f.response, "response")
            if layout == .rated { try need(f.responses, "responses") }
            if f.overall == nil && f.aspects == nil { throw n.error("layout \(layout.rawValue) needs fields.overall or fields.aspects") }
        case .prompts:
            try need(f.prompt, "prompt")
        case .mixture:
            break
        }
    }

    static func parseBinarize(_ n: DataYAMLNode?, fields: FieldMap, layout: DatasetSpec.Layout) throws -> BinarizeSpec {
        let rated = layout == .rated || layout == .ratedRows
        guard let n else {
            return BinarizeSpec(strategy: fields.overall != nil ? .overall : .fineGrainedMean)
        }
        if !rated { throw n.error("binarize applies to layouts rated and rated_rows only") }
        let m = try n.mapping("binarize", allowed: ["strategy", "score", "generators", "generator_groups", "generator_group"])
        let names = ["overall", "fine_grained_mean", "best_vs_worst"]
        var spec = BinarizeSpec(strategy: fields.overall != nil ? .overall : .fineGrainedMean)
        if let s = m["strategy"] { spec.strategy = BinarizeSpec.Strategy(rawValue: try s.choice("binarize.strategy", names)) ?? .overall }
        if let s = m["score"] { spec.score = BinarizeSpec.Strategy(rawValue: try s.choice("binarize.score", ["overall", "fine_grained_mean"])) }
        let scoreKind = spec.strategy == .bestVsWorst ? (spec.score ?? (fields.overall != nil ? .overall : .fineGrainedMean)) : spec.strategy
        if scoreKind == .overall && fields.overall == nil { throw (m["strategy"] ?? n).error("scoring by overall needs fields.overall") }
        if scoreKind == .fineGrainedMean && fields.aspects == nil { throw (m["strategy"] ?? n).error("fine_grained_mean needs fields.aspects") }
        if let g = m["generators"] { spec.generators = try g.list("binarize.generators").map { try $0.string("a generator name") } }
        if let g = m["generator_groups"] {
            spec.generatorGroups = try g.int("binarize.generator_groups")
            if (spec.generatorGroups ?? 0) < 2 { throw g.error("binarize.generator_groups must be at least 2") }
        }
        if let g = m["generator_group"] {
            guard let groups = spec.generatorGroups else { throw g.error("generator_group needs binarize.generator_groups") }
            spec.generatorGroup = try parseGroup(g, groups: groups)
        } else if spec.generatorGroups != nil {
            throw n.error("generator_groups needs generator_group: top, middle, bottom or a number from 1")
        }
        return spec
    }

    static func parseGroup(_ g: DataYAMLNode, groups: Int) throws -> Int {
        if let i = g.node.int {
            guard (1...groups).contains(i) else { throw g.error("generator_group must be between 1 and \(groups)") }
            return i
        }
        switch try g.choice("binarize.generator_group", ["top", "middle", "bottom"]) {
        case "top": return 1
        case "bottom": return groups
        default:
            guard groups % 2 == 1 else { throw g.error("'middle' needs an odd generator_groups, not \(groups)") }
            return (groups + 1) / 2
        }
    }

    static func parseFilters(_ n: DataYAMLNode) throws -> FilterSpec {
        let m = try n.mapping("filters", allowed: ["drop_ties", "drop_empty", "single_turn", "max_length", "categories"])
        var f = FilterSpec()
        if let v = m["drop_ties"] { f.dropTies = try v.bool("filters.drop_ties") }
        if let v = m["drop_empty"] { f.dropEmpty = try v.bool("filters.drop_empty") }
        if let v = m["single_turn"] { f.singleTurn = try v.bool("filters.single_turn") }
        if let v = m["categories"] { f.categories = try v.list("filters.categories").map { try $0.string("a category") } }
        if let v = m["max_length"] {
            let l = try v.mapping("filters.max_length", allowed: ["unit", "prompt", "response"])
            if let u = l["unit"] { f.lengthUnit = try u.choice("filters.max_length.unit", ["chars", "tokens"]) }
            f.maxPromptLength = try l["prompt"]?.int("filters.max_length.prompt")
            f.maxResponseLength = try l["response"]?.int("filters.max_length.response")
        }
        return f
    }

    static func parseHeldOut(_ n: DataYAMLNode) throws -> HeldOutSpec {
        let m = try n.mapping("held_out", allowed: ["fraction", "count"])
        var h = HeldOutSpec()
        if let f = m["fraction"] {
            h.fraction = try f.double("held_out.fraction")
            if !(0..<1).contains(h.fraction ?? -1) { throw f.error("held_out.fraction must be in [0, 1)") }
        }
        if let c = m["count"] {
            h.count = try c.int("held_out.count")
            if (h.count ?? -1) < 0 { throw c.error("held_out.count must be at least 0") }
        }
        if (h.fraction == nil) == (h.count == nil) { throw n.error("held_out needs exactly one of fraction or count") }
        return h
    }

    static func parseMixture(_ n: DataYAMLNode) throws -> [MixtureComponent] {
        let items = try n.list("mixture")
        if items.isEmpty { throw n.error("mixture needs at least one component") }
        return try items.map { item in
            let m = try item.mapping("a mixture component", allowed: ["dataset", "size"])
            guard let d = m["dataset"] else { throw item.error("a mixture component needs 'dataset'") }
            var c = MixtureComponent(dataset: try d.string("mixture.dataset"), size: nil)
            if let s = m["size"], (try? s.string("size")) != "all" {
                c.size = try s.int("mixture.size")
                if (c.size ?? 0) < 1 { throw s.error("mixture.size must be at least 1 (or 'all')") }
            }
            return c
        }
    }
}
