import Pipeline
import RecipeSpec
import StageSpecs
import Tensor

/// The embedded CPU engine's runners: one per stage kind of the catalogue, keyed by (kind, `embedded`).
/// Another engine's bridge registers its own set; the executor takes the union.
public enum EmbeddedRunners {
    public static let all: [RunnerKey: any StageRunner] = RunnerKey.embedded([
        StageSpecs.tokenizer.kind: TokenizerStage(),
        StageSpecs.pretrained.kind: PretrainedStage(),
        StageSpecs.hfModel.kind: HFModelStage(),
        StageSpecs.sft.kind: SFTStage(),
        StageSpecs.taskPreferences.kind: TaskPreferencesStage(),
        StageSpecs.taskPrompts.kind: TaskPromptsStage(),
        StageSpecs.worldPreferences.kind: WorldPreferencesStage(),
        StageSpecs.dataset.kind: DatasetStage(),
        StageSpecs.promptSet.kind: PromptSetStage(),
        StageSpecs.concat.kind: ConcatStage(),
        StageSpecs.rewardModel.kind: RewardModelStage(),
        StageSpecs.dpo.kind: DPOStage(),
        StageSpecs.ppo.kind: PPOStage(),
        StageSpecs.opo.kind: OPOStage(),
        StageSpecs.d2po.kind: D2POStage(),
        StageSpecs.goldReward.kind: GoldRewardStage(),
        StageSpecs.rmAccuracy.kind: RewardAccuracyStage(),
        StageSpecs.bestOfN.kind: BestOfNStage(),
        StageSpecs.categoryScores.kind: CategoryScoresStage(),
    ].merging(BenchmarkStages.runners) { a, _ in a })

    /// `all`, with site-named models (`hf_model` with `model:`) read from the folders the site's `models:` gives.
    public static func all(siteModels: [String: String]) -> [RunnerKey: any StageRunner] {
        all.merging(RunnerKey.embedded([StageSpecs.hfModel.kind: HFModelStage(siteModels: siteModels)])) { _, site in site }
    }

    /// Sets the engine's thread count (BLAS and its parallel loops).
    public static func configureEngine(threads: Int) {
        Threads.set(threads)
    }
}
