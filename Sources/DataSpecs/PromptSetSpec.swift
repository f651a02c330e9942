import Foundation

/// Where a prompt set comes from: a catalogue entry, a file, or a weighted mix (the "mixed prompts"
/// of the Unpacking paper, §3.4). Exactly one of `dataset`, `file`, `mix`.
public struct PromptSetSpec: Codable, Sendable, Equatable {
    /// A catalogue entry: its prompts (prompt entries) or the distinct prompts of its pairs.
    public var dataset: String?
    /// For pair entries: `train` (default) or `held_out`.
    public var split: String?
    /// A file of prompts, relative to the repository root: JSONL (with `field`) or plain text lines.
    public var file: String?
    /// The JSONL field (dotted path) holding the prompt; absent means one prompt per text line.
    public var field: String?
    /// Weighted parts; `size` is then required and split between parts by weight.
    public var mix: [PromptMixPart]?
    /// How many prompts to keep (a seeded sample); nil keeps all.
    public var size: Int?

    public init(dataset: String? = nil, split: String? = nil, file: String? = nil, field: String? = nil,
                mix: [PromptMixPart]? = nil, size: Int? = nil) {
        self.dataset = dataset
        self.split = split
        self.file = file
        self.field = field
        self.mix = mix
        self.size = size
    }
}

/// One weighted part of a prompt mix.
public struct PromptMixPart: Codable, Sendable, Equatable {
    /// Relative weight (need not sum to 1).
    public var weight: Double
    /// The part's prompts.
    public var prompts: PromptSetSpec

    public init(weight: Double, prompts: PromptSetSpec) {
        self.weight = weight
        self.prompts = prompts
    }
}
