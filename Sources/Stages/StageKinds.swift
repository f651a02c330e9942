import Pipeline
import Tensor
import RecipeSpec

/// Every stage kind PrefLab's embedded engine runs: the catalogue recipes are checked against.
public enum StageKinds {
    /// All kinds, in the order `preflab stages` lists them.
    public static let all: [StageKind] = [
        TokenizerStage.kind, PretrainedStage.kind, HFModelStage.kind, SFTStage.kind,
        TaskPreferencesStage.kind, TaskPromptsStage.kind, WorldPreferencesStage.kind, DatasetStage.kind, PromptSetStage.kind, ConcatStage.kind,
        RewardModelStage.kind, DPOStage.kind, PPOStage.kind, OPOStage.kind, D2POStage.kind,
        GoldRewardStage.kind, RewardAccuracyStage.kind, BestOfNStage.kind, CategoryScoresStage.kind,
    ]

    /// The schemas, for the recipe resolver.
    public static var catalog: StageCatalog { StageCatalog(all.map(\.schema)) }

    /// Kind → runner, for the executor.
    public static var runners: [String: any StageRunner] {
        Dictionary(all.map { ($0.schema.kind, $0.runner) }, uniquingKeysWith: { a, _ in a })
    }
}

extension StageKinds {
    /// Problems beyond the schema in a resolved recipe (trainer parameters that do not decode), one line each.
    public static func check(_ recipe: ResolvedRecipe) -> [String] {
        let kinds = Dictionary(all.map { ($0.schema.kind, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>(), problems: [String] = []
        for cell in recipe.cells {
            for stage in cell.stages {
                do {
                    try kinds[stage.kind]?.check(stage)
                    if kinds[stage.kind]?.schema.fields.contains(where: { $0.name == "scorer_large" }) == true {
                        try ScorerFields.check(stage)
                    }
                } catch {
                    let line = "\(stage.location.map { "\($0): " } ?? "")stages.\(stage.name): \(error)"
                    if seen.insert(line).inserted { problems.append(line) }
                }
            }
        }
        let schemas = Dictionary(all.map { ($0.schema.kind, $0.schema) }, uniquingKeysWith: { a, _ in a })
        for (stage, problem) in HFModelStage.wiringProblems(recipe, schemas: schemas) {
            let line = "\(stage.location.map { "\($0): " } ?? "")stages.\(stage.name): \(problem)"
            if seen.insert(line).inserted { problems.append(line) }
        }
        return problems
    }

    /// Sets the engine's thread count (BLAS and its parallel loops).
    public static func configureEngine(threads: Int) {
        Threads.set(threads)
    }
}
