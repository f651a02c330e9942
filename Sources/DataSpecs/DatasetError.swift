import Foundation

/// A data or catalogue problem with where it happened: `file:line:column: message`.
public struct DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file at fault (a catalogue YAML or a data file), as the user named it where possible.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// 1-based column, when known.
    public var column: Int?
    /// What is wrong and what was expected.
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        return s + ": " + message
    }
}

/// Why a row, response or pair was left out of a loaded dataset.
///
/// Malformed reasons fail the load under `on_error: fail`; filter reasons never do.
public enum SkipReason: String, CaseIterable, Codable, Sendable {
    // Malformed input.
    case invalidUTF8 = "invalid_utf8"
    case badJSON = "bad_json"
    case badCSV = "bad_csv"
    case lineTooLong = "line_too_long"
    case truncatedGzip = "truncated_gzip"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case emptyResponse = "empty_response"
    case emptyTurn = "empty_turn"
    case badDialogue = "bad_dialogue"
    case badScore = "bad_score"
    case badAnswer = "bad_answer"
    case labelMismatch = "label_mismatch"
    // Filters and binarization.
    case unscored = "unscored"
    case tie = "tie"
    case multiTurn = "multi_turn"
    case tooLong = "too_long"
    case duplicate = "duplicate"
    case tooFewResponses = "too_few_responses"
    case heldOutOverlap = "held_out_overlap"
    case otherCategory = "other_category"
    case otherGenerator = "other_generator"

    /// Whether this reason means the input itself is broken (as opposed to filtered by choice).
    public var isMalformed: Bool {
        switch self {
        case .invalidUTF8, .badJSON, .badCSV, .lineTooLong, .truncatedGzip, .missingField, .wrongType,
             .emptyResponse, .emptyTurn, .badDialogue, .badScore, .badAnswer, .labelMismatch:
            return true
        case .unscored, .tie, .multiTurn, .tooLong, .duplicate, .tooFewResponses, .heldOutOverlap,
             .otherCategory, .otherGenerator:
            return false
        }
    }
}

/// How many items one reason removed, with the first few `file:line: message` examples.
public struct SkipCount: Codable, Sendable, Equatable {
    /// The reason.
    public var reason: SkipReason
    /// How many rows, responses or pairs it removed.
    public var count: Int
    /// The first few occurrences as `file:line: message`.
    public var examples: [String]
}

/// What happened while loading one catalogue entry.
public struct LoadReport: Codable, Sendable, Equatable {
    /// The catalogue entry.
    public var name: String
    /// Data rows read from the source files (records, not bytes), malformed ones included.
    public var rowsRead: Int = 0
    /// Items kept in the end: pairs (train + held-out) or, for prompt entries, prompts.
    public var kept: Int = 0
    /// Rows, responses or pairs removed, by reason, in the order first seen.
    public var skipped: [SkipCount] = []
    /// Pairs or prompt groups dropped because no response was strictly better than another.
    public var ties: Int { count(.tie) }
    /// Pairs before seeded downsampling, when the entry downsampled.
    public var downsampledFrom: Int?
    /// Per-generator mean scores (rated data), best first, with their strength group when grouped.
    public var generators: [GeneratorScore] = []
    /// Free-form facts worth showing (mixture components, split sizes).
    public var notes: [String] = []

    package init(name: String) { self.name = name }

    /// How many items `reason` removed.
    public func count(_ reason: SkipReason) -> Int {
        skipped.first(where: { $0.reason == reason })?.count ?? 0
    }

    /// Counts one skipped item, keeping the first three examples.
    package mutating func skip(_ reason: SkipReason, _ example: @autoclosure () -> String) {
        if let i = skipped.firstIndex(where: { $0.reason == reason }) {
            skipped[i].count += 1
            if skipped[i].examples.count < 3 { skipped[i].examples.append(example()) }
        } else {
            skipped.append(SkipCount(reason: reason, count: 1, examples: [example()]))
        }
    }

    /// Adds another report's skips and counts (mixtures).
    package mutating func absorb(_ other: LoadReport) {
        rowsRead += other.rowsRead
        for s in other.skipped {
            if let i = skipped.firstIndex(where: { $0.reason == s.reason }) {
                skipped[i].count += s.count
                skipped[i].examples += s.examples.prefix(max(0, 3 - skipped[i].examples.count))
            } else {
                skipped.append(s)
            }
        }
    }
}

/// One generator's mean score over its scored responses (rated data).
public struct GeneratorScore: Codable, Sendable, Equatable {
    /// Generator (model) name.
    public var name: String
    /// Mean score of its responses.
    public var mean: Double
    /// Scored responses it contributed.
    public var responses: Int
    /// 1-based strength group (1 = top) when the entry groups generators.
    public var group: Int?

    package init(name: String, mean: Double, responses: Int, group: Int?) {
        (self.name, self.mean, self.responses, self.group) = (name, mean, responses, group)
    }
}
