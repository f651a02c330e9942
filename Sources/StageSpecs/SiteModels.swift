import Foundation
import Pipeline
import RecipeSpec

/// Models a recipe names and the site file places (`hf_model` with `model: opt-125m`; the site's
/// `models: { opt-125m: /models/opt-125m }`): the papers' models, whose folders live on a cluster, not here.
///
/// The node is known by its name and declared `architecture`, never by the folder's files, so a recipe
/// validates and plans on a machine that has none of them. Which engines can load a model follows from its
/// architecture, carried through the graph (a DPO of an OPT model is an OPT model): the embedded engine runs
/// Llama models only, and `refusals` names every node that would have to load another one there. A site-named model
/// of another architecture is kept as its folder (`EngineModel`) for the bridges that hand engines folders
/// (`engineFolders`).
public enum SiteModels {
    /// The name of a site-named `hf_model` stage, else nil.
    public static func name(_ stage: ResolvedStage) -> String? {
        stage.kind == "hf_model" ? stage.config["model"]?.string : nil
    }

    /// The architectures PrefLab's own model code loads (the embedded engine, and the inputs a bridge leaves to it).
    public static let preflabLoads = ["llama"]

    /// The model inputs each delegated bridge hands its engine as the model's own folder, the engine tokenising the
    /// node's text with the model's own tokenizer, when the model is one PrefLab does not read (`EngineModel`): any
    /// architecture transformers loads: TRL's bridge, vLLM's text mode (vllm_generate.py) for the kinds in
    /// `engineFolderKinds`, and OpenRLHF's (its prompts rendered by the model's tokenizer in openrlhf_ppo.py; the reward
    /// model's head checked by `OpenRLHFFolders`). Contrastive Distillation's scorers are scored from their folders by
    /// the rule of trl_text.py's `response_logprob_ids` (vLLM's text scoring, the TRL bridge's gold labeller).
    public static let engineFolders: [String: Set<String>] = [
        Engines.trl.name: Set(["policy", "init", "reference", "from_reward_model", "reward_model", "dpo_model", "dpo_reference"])
            .union(textScorers),
        Engines.vllm.name: Set(["policy", "reference", "reward_model"]).union(textScorers),
        Engines.openrlhf.name: ["policy", "reward_model"],
    ]

    /// Contrastive Distillation's scoring models: they score the samples' text, each in its own tokenizer.
    public static let textScorers: Set<String> = ["scorer_large", "scorer_small"]

    /// The kinds whose `textScorers` an engine scores from their folders, where not every kind it takes folders for
    /// does: vLLM's task_preferences and gold_reward ask it for the samples' scores; best_of_n scores its picks with
    /// the gold task in PrefLab.
    static let textScorerKinds: [String: Set<String>] = [Engines.vllm.name: ["task_preferences", "gold_reward"]]

    /// The kinds an engine takes folders for, where not every kind it runs does: vLLM's text mode serves the stages
    /// that read their samples as text, or score them in the same tokenizer's ids (gold_reward's `reference`;
    /// best_of_n's `reward_model`, through trl_score.py). The benchmarks (PrefLab's window, prompts and scoring in its
    /// tokens) still need PrefLab's tokenizer.
    static let engineFolderKinds: [String: Set<String>] = [
        Engines.vllm.name: ["task_preferences", "gold_reward", "category_scores", "best_of_n"],
    ]

    /// Whether `engine` hands a node of `kind` its `field` model as the model's own folder.
    public static func takesFolder(engine: String, kind: String, field: String) -> Bool {
        (engineFolders[engine]?.contains(field) ?? false) && (engineFolderKinds[engine]?.contains(kind) ?? true)
            && (!textScorers.contains(field) || (textScorerKinds[engine]?.contains(kind) ?? true))
    }

    /// What the other bridges still do through PrefLab's own model code, so that they cannot take such a model yet.
    static let preparedByPrefLab: [String: String] = [
        Engines.vllm.name: "the vLLM bridge reads this input through PrefLab's tokenizer and model (its text mode takes the `policy` of task_preferences, gold_reward, category_scores and best_of_n, gold_reward's `reference`, best_of_n's `reward_model`, and the `scorer_large`/`scorer_small` of task_preferences and gold_reward, as the model's folder)",
    ]

    /// `hf_model`: exactly one of `path` and `model`; `architecture` with `model` (a folder's own config.json
    /// says it for `path`, which must be a Llama); then the folder's files for `path`.
    static let check: @Sendable (ResolvedStage) -> [StageProblem] = { stage in
        let path = stage.config["path"]?.string, model = stage.config["model"]?.string
        let architecture = stage.config["architecture"]?.string
        switch (path, model) {
        case (nil, nil):
            return [StageProblem(key: "path", "an hf_model needs `path` (a folder here) or `model` (a name the site file maps to a folder)")]
        case (_?, _?):
            return [StageProblem(key: "model", "`path` and `model` are both set; expected one: a folder here, or a name the site maps to a folder")]
        case (nil, _?):
            guard let architecture, !architecture.isEmpty else {
                return [StageProblem(key: "model", "a site-named model needs `architecture:` (its config.json model_type, e.g. llama or opt): it decides which engines can load it")]
            }
            if !preflabLoads.contains(architecture), stage.config["chat_format"].map({ !$0.value.isNull }) ?? false {
                return [StageProblem(key: "chat_format", "`chat_format` is how PrefLab reads a Llama folder's chat template; an \(architecture) model is tokenised by its engine with its own tokenizer and template — drop it")]
            }
            return []
        case (_?, nil):
            if let architecture, architecture != "llama" {
                return [StageProblem(key: "architecture", "a folder given by `path` is read as a Llama (PrefLab reads Llama folders only); got '\(architecture)'")]
            }
            return FileChecks.hfModel(stage)
        }
    }

    /// One node that cannot run as planned: the stage, the key at fault, where it is written and why.
    public struct Refusal: Sendable {
        public var hash: String
        public var error: RecipeError
    }

    /// Every node of `graph` whose engine cannot load a model input's architecture, and (with a site's `models`
    /// map) every site-named model the site does not place. Without `siteModels`, names are not checked: the
    /// recipe is valid anywhere, and the site it runs on answers for its folders.
    public static func refusals(_ graph: PipelineGraph, siteModels: [String: String]? = nil, siteFile: String? = nil) -> [Refusal] {
        let origins = Origins(graph)
        var out: [Refusal] = []
        for node in graph.nodes {
            if let siteModels, let name = name(node.stage), siteModels[name] == nil {
                let site = siteFile.map { "the site file \($0)" } ?? "the site file"
                out.append(Refusal(hash: node.hash, error: RecipeError(
                    location: node.stage.config["model"]?.location, keyPath: "stages.\(node.stage.name).model",
                    message: "\(site) names no folder for model '\(name)'",
                    expected: "`models: { \(name): FOLDER }` in the site file", suggestion: didYouMean(name, among: siteModels.keys.sorted()))))
            }
            out += unreadable(node, origins).map { Refusal(hash: node.hash, error: $0) }
        }
        return out
    }

    /// The model inputs of `node` that its engine would have PrefLab read in an architecture it does not, and a TRL
    /// node whose models would not share one tokenizer.
    private static func unreadable(_ node: GraphNode, _ origins: Origins) -> [RecipeError] {
        let base = "stages.\(node.stage.name)"
        func at(_ field: String) -> SourceLocation? { node.stage.config[field]?.location ?? node.stage.location }
        let models = node.inputs.map { (field: String($0.field.prefix { $0 != "[" }), hash: $0.hash) }.filter { loadsModel(node.kind, $0.field) }
        var out: [RecipeError] = []
        for input in models {
            guard let o = origins[input.hash], !preflabLoads.contains(o.architecture),
                  !takesFolder(engine: node.engine, kind: node.kind, field: input.field) else { continue }
            let reader = node.engine == EngineDescriptor.embeddedName ? "this stage would run on the embedded engine"
                : preparedByPrefLab[node.engine] ?? "the \(node.engine) bridge leaves `\(input.field)` to PrefLab's own model code"
            out.append(RecipeError(
                location: at(input.field), keyPath: "\(base).\(input.field)",
                message: "'\(origins.stageName(input.hash))' is an \(o.architecture) model (site-named '\(o.model)', stage \(o.stage)); \(reader), which loads \(preflabLoads.joined(separator: ", ")) models only",
                expected: delegates(node.stage, field: input.field)))
        }
        let folders = models.filter { takesFolder(engine: node.engine, kind: node.kind, field: $0.field) }
        // vLLM scores a scorer's text in its own tokenizer, whatever the policy's; TRL's gold labeller decodes the
        // policy's samples in the node's one tokenizer.
        let shared = folders.filter { node.engine != Engines.vllm.name || !textScorers.contains($0.field) }
        if let mixed = mixedTokenizers(shared.map { ($0.field, origins[$0.hash]) }, engine: node.engine) {
            out.append(RecipeError(location: at(mixed.field), keyPath: "\(base).\(mixed.field)", message: mixed.message,
                                   expected: "model inputs that share one tokenizer: all from '\(mixed.model)', or all PrefLab's"))
        }
        if node.engine == Engines.trl.name, let own = models.first(where: { textScorers.contains($0.field) && readByPrefLab(origins[$0.hash]) }) {
            // The bridge's gold labeller scores text from the scorers' folders in transformers, with their own tokenizers.
            out.append(RecipeError(location: at(own.field), keyPath: "\(base).\(own.field)",
                                   message: "'\(origins.stageName(own.hash))' is a model PrefLab reads; the TRL bridge scores Contrastive Distillation from the folders of scorers it does not read (site-named models and what TRL trained from them) only",
                                   expected: "`engine: embedded` on this stage, or scorers PrefLab does not read"))
        }
        let lora = node.stage.config["lora"].map { !$0.value.isNull } ?? false
        if lora, let o = folders.lazy.compactMap({ origins[$0.hash] }).first(where: { !preflabLoads.contains($0.architecture) }) {
            // The bridge trains PrefLab's own initial adapters, drawn on a model PrefLab has read.
            out.append(RecipeError(location: at("lora"), keyPath: "\(base).lora",
                                   message: "`lora` starts from PrefLab's own initial adapters, drawn on the models it reads; '\(o.model)' is an \(o.architecture) model it does not read",
                                   expected: "full fine-tuning (no `lora`) of a model PrefLab does not read"))
        }
        return out
    }

    /// A model PrefLab reads: one it made or read itself (no site-named origin), or a site-named Llama.
    private static func readByPrefLab(_ origin: Origin?) -> Bool {
        origin.map { preflabLoads.contains($0.architecture) } ?? true
    }

    /// The site-named model each node's model descends from (its architecture travels with it), memoised.
    private final class Origins {
        let byHash: [String: GraphNode]
        private var memo: [String: Origin?] = [:]

        init(_ graph: PipelineGraph) { byHash = Dictionary(graph.nodes.map { ($0.hash, $0) }, uniquingKeysWith: { a, _ in a }) }

        func stageName(_ hash: String) -> String { byHash[hash]?.stage.name ?? hash }

        subscript(hash: String) -> Origin? {
            if let known = memo[hash] { return known }
            guard let node = byHash[hash] else { return nil }
            let o: Origin?
            if let name = SiteModels.name(node.stage) {
                o = Origin(architecture: node.stage.config["architecture"]?.string ?? "?", model: name, stage: node.stage.name)
            } else if makesModel(node.kind), let source = node.inputs.first(where: { derivedFrom.contains($0.field) }) {
                o = self[source.hash]
            } else {
                o = nil  // a model PrefLab made or read itself (a Llama), or no model at all
            }
            memo[hash] = .some(o)
            return o
        }
    }

    /// A node whose engine takes model folders (TRL) and whose model inputs mix one PrefLab reads (its tokenizer) with
    /// an engine model (the model's own): the engine tokenises each row once, for all of them. Nil when they agree.
    private static func mixedTokenizers(_ models: [(field: String, origin: Origin?)], engine: String) -> (field: String, model: String, message: String)? {
        guard let foreign = models.first(where: { $0.origin.map { !preflabLoads.contains($0.architecture) } ?? false }),
              let own = models.first(where: { $0.origin.map { preflabLoads.contains($0.architecture) } ?? true }),
              let o = foreign.origin else { return nil }
        return (own.field, o.model, "`\(own.field)` is a model PrefLab reads (its own tokenizer) and `\(foreign.field)` an \(o.architecture) model with its own ('\(o.model)'); the \(engine) bridge tokenises each row once, for every model of the node")
    }

    /// `refusals` as errors, one per written key (the cells sharing a template would repeat it).
    public static func errors(_ graph: PipelineGraph, siteModels: [String: String]? = nil, siteFile: String? = nil) -> [RecipeError] {
        var seen = Set<RecipeError>()
        return refusals(graph, siteModels: siteModels, siteFile: siteFile).map(\.error).filter { seen.insert($0).inserted }
    }

    /// The fields whose model a trained model continues (its architecture is theirs).
    static let derivedFrom: Set<String> = ["policy", "init", "from_reward_model"]

    private static let modelTypes: [ArtifactType] = [.policy, .rewardModel]

    /// A kind whose node is a model (a policy or a reward model).
    private static func makesModel(_ kind: String) -> Bool {
        StageSpecs.catalog.schema(kind)?.outputs.contains(where: modelTypes.contains) ?? false
    }

    /// A field whose input the stage loads as a model.
    private static func loadsModel(_ kind: String, _ field: String) -> Bool {
        let type = StageSpecs.catalog.schema(kind)?.field(field)?.type
        switch type {
        case .stageRef(let accepts)?, .list(.stageRef(let accepts))?: return accepts.contains(where: modelTypes.contains)
        default: return false
        }
    }

    private struct Origin { var architecture: String, model: String, stage: String }

    /// What the refused stage could do instead: an engine that runs the kind and takes `field` as the model's folder;
    /// else which engines run the kind but not on such a model, so that the message says what is missing.
    private static func delegates(_ stage: ResolvedStage, field: String) -> String {
        let kind = stage.kind
        let engines = StageSpecs.catalog.schema(kind)?.engines.map(\.engine).filter { $0 != EngineDescriptor.embeddedName } ?? []
        let others = StageSpecs.catalog.schema(kind)?.engines.filter { support in
            guard takesFolder(engine: support.engine, kind: kind, field: field) else { return false }
            var there = stage
            there.engine = support.engine
            return support.check(there).isEmpty   // an engine that refuses the stage (d2po on TRL for CD) is no way out
        }.map(\.engine) ?? []
        if !others.isEmpty {
            return "`engine:` " + others.joined(separator: " or ") + " on this stage (it hands the engine `\(field)`'s folder, tokenised by the model's own tokenizer)"
        }
        let why = engines.isEmpty ? "no delegated engine runs '\(kind)'"
            : "'\(kind)' runs on " + engines.joined(separator: ", ") + ", but not with `\(field)` in another architecture (or not with this stage's options)"
        return "a Llama model here: \(why) yet"
    }
}
