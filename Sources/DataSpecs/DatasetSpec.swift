import Foundation

/// One catalogue entry, as read from `Recipes/datasets/NAME.yaml` (format: docs/datasets.md).
public struct DatasetSpec: Codable, Sendable, Equatable {
    /// The entry's name: the YAML file's name without `.yaml`.
    public var name: String
    /// What the data is, for people.
    public var description: String?
    /// Where the rows come from; absent for mixtures.
    public var source: SourceSpec?
    /// How rows are shaped: `pair`, `rated`, `rated_rows` or `prompts`.
    public var layout: Layout
    /// Which row fields hold what (dotted paths reach nested objects and list items).
    public var fields: FieldMap
    /// Maps raw score values (as written: "1", "1.5", "null") to numbers, for judged labels.
    public var scoreMap: [String: Double]?
    /// How rated responses become one pair per prompt.
    public var binarize: BinarizeSpec
    /// Which rows, responses and pairs to drop.
    public var filters: FilterSpec
    /// What a malformed row does: `skip` (report and count) or `fail` (stop the load).
    public var onError: OnError
    /// Drop pairs with the same prompt, chosen and rejected as an earlier one.
    public var dedup: Bool
    /// Seeded downsampling of the train split to this many pairs (or prompts).
    public var sample: Int?
    /// The held-out split, made by prompt.
    public var heldOut: HeldOutSpec?
    /// For mixtures: the entries and how many train pairs to take from each.
    public var mixture: [MixtureComponent]?
    /// How a prompt entry's `answer` field is turned into a checkable answer.
    public var answerFormat: AnswerFormat?

    /// Row shapes.
    public enum Layout: String, Codable, Sendable, CaseIterable {
        /// One pair per row: `prompt`+`chosen`+`rejected`, or full `chosen`/`rejected` dialogues.
        case pair
        /// One prompt per row with a list of scored responses (UltraFeedback-like).
        case rated
        /// One scored response per row; rows with the same prompt are grouped (AlpacaEval-like).
        case ratedRows = "rated_rows"
        /// Prompts only, optionally with a reference answer (GSM8K).
        case prompts
        /// A mixture of other entries (set by the `mixture` key, not written as a layout).
        case mixture
    }

    /// Malformed-row policy.
    public enum OnError: String, Codable, Sendable { case skip, fail }
}

/// Where an entry's rows are.
public struct SourceSpec: Codable, Sendable, Equatable {
    /// A file or folder; relative to the repository root, or to the YAML file with `relative_to: file`.
    public var path: String
    /// `root` (default) or `file`.
    public var relativeTo: String
    /// `jsonl`, `json`, `csv`, `parquet` or `arrow`; by default from the file name, else from the first bytes.
    public var format: String?
    /// For folders: which files to read (a `*` glob on the file name), sorted by name.
    public var pattern: String
    /// For folders: name each row's generator after its file (name up to the first extension).
    public var generatorFromFilename: Bool
    /// Records longer than this many bytes are malformed (`line_too_long`).
    public var maxLineBytes: Int
    /// The YAML line where `path` is written, for messages.
    public var pathLine: Int?
    /// The YAML column where `path` is written, for messages.
    public var pathColumn: Int?
    /// True lets `path` point outside the repository and the data root (`DatasetCatalog.dataRoot`).
    public var allowOutside: Bool?
}

/// Row fields: dotted paths into each JSON record (or CSV column names).
public struct FieldMap: Codable, Sendable, Equatable {
    /// The prompt: a string or a list of `{role, content}` messages.
    public var prompt: String?
    /// The preferred response, or the full preferred dialogue when `prompt` is absent.
    public var chosen: String?
    /// The dispreferred response or dialogue.
    public var rejected: String?
    /// An optional margin attached to a pair.
    public var margin: String?
    /// `rated`: the list of responses in each row.
    public var responses: String?
    /// `rated`/`rated_rows`: the response text (inside each response object for `rated`).
    public var response: String?
    /// The generator (model) of a response.
    public var generator: String?
    /// The overall score of a response.
    public var overall: String?
    /// Per-aspect scores of a response: aspect name → path.
    public var aspects: [String: String]?
    /// A prompt category (stored as the prompt's `source`), e.g. UltraFeedback's source dataset.
    public var category: String?
    /// `prompts`: the reference answer.
    public var answer: String?
    /// `pair`: a judged label that orients the pair through `score_map`: positive keeps chosen and
    /// rejected as mapped, negative swaps them, zero is a tie, null is unscored (AlpacaEval's 1 / 2 / 1.5;
    /// SHP's `labels` 1 / 0 with `chosen: human_ref_A`).
    public var label: String?
    /// `pair`: the numeric score of the response mapped as `chosen`; with `rejected_score`, the higher-scored
    /// response is chosen (a swap when the rejected side scored higher) and the difference is the margin.
    public var chosenScore: String?
    /// `pair`: the numeric score of the response mapped as `rejected`.
    public var rejectedScore: String?
}

/// Rated data to pairs.
public struct BinarizeSpec: Codable, Sendable, Equatable {
    /// `overall`, `fine_grained_mean` or `best_vs_worst`.
    public var strategy: Strategy
    /// The score `best_vs_worst` ranks by: `overall` or `fine_grained_mean` (default: overall when mapped).
    public var score: Strategy?
    /// Keep only responses of these generators.
    public var generators: [String]?
    /// Bucket generators into this many strength groups by mean score (App. E of the Unpacking paper).
    public var generatorGroups: Int?
    /// Which group to keep: 1 = strongest; `top`, `middle`, `bottom` are accepted in YAML.
    public var generatorGroup: Int?

    /// Binarization strategies.
    public enum Strategy: String, Codable, Sendable {
        /// Best by overall score vs a random strictly lower one.
        case overall
        /// Best by the mean of the aspect scores vs a random strictly lower one.
        case fineGrainedMean = "fine_grained_mean"
        /// Highest vs lowest score.
        case bestVsWorst = "best_vs_worst"
    }
}

/// Row and pair filters.
public struct FilterSpec: Codable, Sendable, Equatable {
    /// Drop pairs whose chosen and rejected are the same text (and rated groups with no strict winner).
    public var dropTies: Bool = true
    /// Drop rows with an empty turn or response (always counted as malformed).
    public var dropEmpty: Bool = true
    /// Keep only prompts with one user turn.
    public var singleTurn: Bool = false
    /// `chars` or `tokens` (whitespace-separated words).
    public var lengthUnit: String = "tokens"
    /// Longest prompt (all turns together) kept.
    public var maxPromptLength: Int?
    /// Longest response kept.
    public var maxResponseLength: Int?
    /// Keep only prompts of these categories (`fields.category`).
    public var categories: [String]?
}

/// The held-out split, by prompt.
public struct HeldOutSpec: Codable, Sendable, Equatable {
    /// Fraction of distinct prompts held out.
    public var fraction: Double?
    /// Number of distinct prompts held out.
    public var count: Int?
}

/// One part of a mixture.
public struct MixtureComponent: Codable, Sendable, Equatable {
    /// The catalogue entry.
    public var dataset: String
    /// Train pairs drawn from it (seeded); nil takes all.
    public var size: Int?
}

/// Reference answers that can be checked.
public enum AnswerFormat: String, Codable, Sendable {
    /// GSM8K: the answer text ends with `#### <number>`.
    case gsm8k
    /// The whole answer field, trimmed, compared exactly.
    case exact
}

/// The data file formats a catalogue source may name (`source.format`; otherwise from the extension).
/// `parquet` and `arrow` (Arrow IPC stream or file, as `datasets.save_to_disk` writes) are columnar.
package enum DataFileFormat: String, CaseIterable {
    case jsonl, json, csv, parquet, arrow
}
