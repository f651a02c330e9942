import Foundation
import Pipeline
import RecipeSpec

/// One stage kind as the catalogue knows it: its schema (fields, outputs, engines, checks), the files
/// its artifact folder holds, and how to fingerprint what it reads from outside the graph.
public struct StageSpec: Sendable {
    public let schema: StageSchema
    /// The files a finished node of this kind holds.
    public let layout: ArtifactLayout
    /// Fingerprint of the files the stage reads from outside the graph (joins the node hash); nil for
    /// kinds that read nothing there, whose hashes carry no fingerprint.
    public let fingerprint: (@Sendable (ResolvedStage) throws -> String)?

    public init(_ schema: StageSchema, layout: ArtifactLayout,
                fingerprint: (@Sendable (ResolvedStage) throws -> String)?) {
        self.schema = schema
        self.layout = layout
        self.fingerprint = fingerprint
    }

    /// The `kind:` value recipes use.
    public var kind: String { schema.kind }
}

/// The stage catalogue: every kind a recipe may use, and every engine. Compute-free: `validate`,
/// `plan`, `diff` and `resolve` need nothing else; each engine's runners register against these kinds.
public enum StageSpecs {
    /// All kinds, in the order `preflab stages` lists them.
    public static let all: [StageSpec] = [
        tokenizer, pretrained, hfModel, sft,
        taskPreferences, taskPrompts, worldPreferences, dataset, promptSet, concat,
        rewardModel, dpo, ppo, opo, d2po,
        goldReward, rmAccuracy, bestOfN, categoryScores,
    ] + benchmarkKinds

    /// The schemas and engines, for the recipe resolver and the graph.
    public static let catalog = StageCatalog(all.map(\.schema), engines: Engines.delegated)

    /// The spec of `kind`.
    public static func spec(_ kind: String) -> StageSpec? { byKind[kind] }

    private static let byKind = Dictionary(all.map { ($0.kind, $0) }, uniquingKeysWith: { a, _ in a })

    /// The graph of `recipe` with its kinds' external fingerprints: what every command plans, runs and compares.
    public static func graph(_ recipe: ResolvedRecipe) throws -> PipelineGraph {
        try PipelineGraph(recipe: recipe, catalog: catalog, external: externalInputs)
    }

    /// Each stage's own kind fingerprints what it reads (nil for kinds that read nothing outside the graph).
    public static let externalInputs: ExternalInputs = { stage in
        // A site-named model is known by its name (the site maps it to a folder where it runs): nothing read here.
        if SiteModels.name(stage) != nil { return nil }
        return try byKind[stage.kind]?.fingerprint?(stage)
    }
}
