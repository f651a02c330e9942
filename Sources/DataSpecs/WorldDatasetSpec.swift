import Foundation

/// The four prompt categories of the simulated world, each with a verifiable check.
public enum WorldCategory: String, CaseIterable, Codable, Sendable {
    case reasoning
    case instructionFollowing = "instruction_following"
    case safety
    case style
}

/// Preference datasets drawn from the simulated world, made to differ the way real ones do:
/// in which prompts they cover, how good and how long the compared responses are, and who
/// labels them (noise, length bias, overall or single-aspect judgement).
public struct WorldDatasetSpec: Codable, Equatable, Sendable {
    /// Dataset name.
    public var name: String
    /// Prompt categories and their weights.
    public var mix: [WorldCategory: Double]
    /// Response qualities are drawn uniformly from this range, independently per response.
    public var qualityLow: Double
    /// Upper end of the quality range.
    public var qualityHigh: Double
    /// Probability a response gets filler sentences.
    public var verbosity: Double
    /// Annotator label-flip probability.
    public var noiseRate: Double
    /// Probability the annotator just prefers the longer response.
    public var lengthBias: Double
    /// The aspect labels follow, or nil for the overall R*.
    public var aspect: String?

    /// The built-in analogues of the datasets in the papers (see docs/world.md).
    public static let presets: [WorldDatasetSpec] = [
        WorldDatasetSpec(name: "hh_like", mix: [.safety: 0.5, .style: 0.3, .instructionFollowing: 0.2],
                         qualityLow: 0.2, qualityHigh: 0.8, verbosity: 0.3, noiseRate: 0.25, lengthBias: 0.1, aspect: nil),
        WorldDatasetSpec(name: "shp_like", mix: [.style: 0.6, .instructionFollowing: 0.4],
                         qualityLow: 0.3, qualityHigh: 0.7, verbosity: 0.5, noiseRate: 0.3, lengthBias: 0.35, aspect: nil),
        WorldDatasetSpec(name: "ultrafeedback_like", mix: [.reasoning: 1, .instructionFollowing: 1, .safety: 1, .style: 1],
                         qualityLow: 0, qualityHigh: 1, verbosity: 0.3, noiseRate: 0.05, lengthBias: 0.05, aspect: nil),
        WorldDatasetSpec(name: "ultrafeedback_instruction", mix: [.reasoning: 1, .instructionFollowing: 1, .safety: 1, .style: 1],
                         qualityLow: 0, qualityHigh: 1, verbosity: 0.3, noiseRate: 0.05, lengthBias: 0.05, aspect: "instruction"),
        WorldDatasetSpec(name: "math_like", mix: [.reasoning: 1],
                         qualityLow: 0.2, qualityHigh: 0.9, verbosity: 0.1, noiseRate: 0.02, lengthBias: 0, aspect: "correctness"),
    ] + ultrafeedbackSubsets

    /// Unpacking Table 7's UltraFeedback subsets: ultrafeedback_like with responses from weak,
    /// middle or strong generators only (lower, middle or upper quality band), or with prompts
    /// from a single source (one category each; the paper's sources are FLAN, FalseQA, …).
    static let ultrafeedbackSubsets: [WorldDatasetSpec] = {
        let base = WorldDatasetSpec(name: "", mix: [.reasoning: 1, .instructionFollowing: 1, .safety: 1, .style: 1],
                                    qualityLow: 0, qualityHigh: 1, verbosity: 0.3, noiseRate: 0.05, lengthBias: 0.05, aspect: nil)
        var out: [WorldDatasetSpec] = []
        for (name, low, high) in [("weak", 0.0, 0.4), ("middle", 0.3, 0.7), ("strong", 0.6, 1.0)] {
            var d = base
            d.name = "ultrafeedback_\(name)_gens"
            (d.qualityLow, d.qualityHigh) = (low, high)
            out.append(d)
        }
        for category in WorldCategory.allCases {
            var d = base
            d.name = "ultrafeedback_\(category.rawValue)_prompts"
            d.mix = [category: 1]
            out.append(d)
        }
        return out
    }()
}
