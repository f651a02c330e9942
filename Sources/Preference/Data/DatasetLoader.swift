import Foundation
import DataSpecs

/// Where an item came from: `file:line`.
struct RowOrigin: CustomStringConvertible {
    var file: String
    var line: Int
    var description: String { "\(file):\(line)" }
}

/// A pair on its way through filters, with its origin for messages.
struct DataCandidate {
    var pair: PreferencePair
    var origin: RowOrigin
}

/// Reads one non-mixture entry: records, row mapping, binarization, filters, dedup, split, sampling.
struct DatasetLoader {
    let spec: DatasetSpec
    /// Absolute source path and how to show it.
    let sourceURL: URL
    let sourceDisplay: String
    /// The catalogue YAML as shown in messages.
    var entryDisplay = ""
    /// Shared parsed files while validating or mixing; nil reads every time.
    let cache: DataRecordCache?
    var report: LoadReport

    init(spec: DatasetSpec, sourceURL: URL, sourceDisplay: String, cache: DataRecordCache? = nil) {
        self.spec = spec
        self.sourceURL = sourceURL
        self.sourceDisplay = sourceDisplay
        self.cache = cache
        self.report = LoadReport(name: spec.name)
    }

    /// Counts a skipped item, or stops the load when it is malformed and the entry says `on_error: fail`.
    mutating func skip(_ reason: SkipReason, _ origin: RowOrigin, _ message: String) throws {
        if reason.isMalformed && spec.onError == .fail {
            throw DatasetError(file: origin.file, line: origin.line, "\(message) [\(reason.rawValue); on_error: fail]")
        }
        report.skip(reason, "\(origin): \(message)")
    }

    /// All records of the source, problems counted as they come.
    mutating func readRecords() throws -> [DataRecord] {
        guard let source = spec.source else { return [] }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: sourceURL.path, isDirectory: &isDir) else {
            throw DatasetError(file: entryDisplay, line: source.pathLine, column: source.pathColumn,
                               "source path '\(sourceDisplay)' does not exist (resolved to \(sourceURL.path))")
        }
        var files: [(URL, String)] = [(sourceURL, sourceDisplay)]
        if isDir.boolValue {
            files = (dataSourceFiles(sourceURL, pattern: source.pattern) ?? []).map {
                (sourceURL.appendingPathComponent($0), sourceDisplay + "/" + $0)
            }
            if files.isEmpty {
                throw DatasetError(file: entryDisplay, line: source.pathLine, column: source.pathColumn,
                                   "no files in folder '\(sourceDisplay)' match pattern '\(source.pattern)'")
            }
        }
        var all: [DataRecord] = []
        for (url, display) in files {
            let read = {
                try DataRecordReader.read(url: url, display: display, format: source.format.flatMap(DataFileFormat.init),
                                      maxRecordBytes: source.maxLineBytes)
            }
            let key = "\(url.path)|\(source.format ?? "")|\(source.maxLineBytes)"
            var (records, problems) = try cache.map { try $0.get(key, read) } ?? read()
            report.rowsRead += records.count + problems.filter { $0.reason != .truncatedGzip }.count
            for p in problems { try skip(p.reason, RowOrigin(file: display, line: p.line), p.message) }
            if source.generatorFromFilename {
                let g = generatorName(url.lastPathComponent)
                for i in records.indices { records[i].generator = g }
            }
            all += records
        }
        return all
    }

    /// The file name without `.gz` and its format extension.
    func generatorName(_ file: String) -> String {
        var n = file
        if n.lowercased().hasSuffix(".gz") { n.removeLast(3) }
        for ext in [".jsonl", ".ndjson", ".json", ".csv"] where n.lowercased().hasSuffix(ext) {
            n.removeLast(ext.count)
            break
        }
        return n
    }

    /// Why a prompt is dropped, if it is.
    func promptProblem(_ p: Prompt) -> (SkipReason, String)? {
        let f = spec.filters
        if f.dropEmpty, let i = p.messages.firstIndex(where: { $0.content.isEmpty }) {
            return (.emptyTurn, "prompt turn \(i + 1) (\(p.messages[i].role)) is empty")
        }
        if f.dropEmpty && p.messages.isEmpty { return (.emptyTurn, "the prompt has no turns") }
        let users = p.messages.filter { $0.role == "user" }.count
        if f.singleTurn && users > 1 { return (.multiTurn, "prompt has \(users) user turns; single_turn is on") }
        if let cats = f.categories, !cats.contains(p.source ?? "") {
            return (.otherCategory, "category '\(p.source ?? "")' is not in filters.categories")
        }
        if let max = f.maxPromptLength {
            let n = p.messages.reduce(0) { $0 + length($1.content) }
            if n > max { return (.tooLong, "prompt is \(n) \(f.lengthUnit), over max_length.prompt \(max)") }
        }
        return nil
    }

    /// Why a response is dropped, if it is.
    func responseProblem(_ text: String, _ what: String) -> (SkipReason, String)? {
        if spec.filters.dropEmpty && text.isEmpty { return (.emptyResponse, "\(what) response is empty") }
        if let max = spec.filters.maxResponseLength {
            let n = length(text)
            if n > max { return (.tooLong, "\(what) response is \(n) \(spec.filters.lengthUnit), over max_length.response \(max)") }
        }
        return nil
    }

    func length(_ s: String) -> Int {
        spec.filters.lengthUnit == "chars" ? s.count : whitespaceTokens(s)
    }

    /// The prompt's source label: the mapped category, else the entry's name.
    func category(_ r: DataRecord) throws -> String {
        guard let path = spec.fields.category else { return spec.name }
        let v = try DataRowMapping.require(r.fields, path)
        if let s = v as? String { return s }
        throw DataRowError(.wrongType, "field '\(path)' should be a string, found \(dataJSONTypeName(v))")
    }
}

/// Whitespace-separated word count: the length unit before a tokenizer is chosen.
public func whitespaceTokens(_ s: String) -> Int {
    var n = 0
    var inWord = false
    for u in s.unicodeScalars {
        if u.properties.isWhitespace { inWord = false } else if !inWord { inWord = true; n += 1 }
    }
    return n
}

