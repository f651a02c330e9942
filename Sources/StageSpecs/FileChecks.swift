import DataSpecs
import Foundation
import RecipeSpec

/// Checks at `validate` (and before `run` starts anything) that every file a recipe names exists:
/// a `dataset` stage's catalogue entry and its data files, a `prompt_set`'s entry or file, a
/// `pretrained` model file, an `hf_model` folder's files. Without them a missing file was found
/// only when its node ran, after the upstream nodes had trained.
public enum FileChecks {
    static let dataset: @Sendable (ResolvedStage) -> [StageProblem] = { stage in
        guard let name = stage.config["name"]?.string else { return [] }
        return problems(key: "name") {
            let catalog = try openCatalog(stage)
            _ = try catalog.spec(name)
            return catalog.inputFiles(of: name)
        }
    }

    static let promptSet: @Sendable (ResolvedStage) -> [StageProblem] = { stage in
        let key = stage.config["file"]?.string != nil ? "file" : (stage.config["mix"] != nil ? "mix" : "dataset")
        do {
            let catalog = try openCatalog(stage)
            let spec = try PromptSetSpec(config: stage.config)
            // Catalogue entries answer for their own sources; files named here must stay in the roots.
            let roots = [(name: "repository", url: catalog.root), (name: "data root", url: catalog.dataRoot)]
            let outside = confinement(stage, named(spec).map { catalog.inputFiles(of: PromptSetSpec(file: $0)) }.flatMap { $0 },
                                      roots: roots, key: key)
            if !outside.isEmpty { return outside }
            if let name = stage.config["dataset"]?.string { _ = try catalog.spec(name) }
            return missing(catalog.inputFiles(of: spec), key: key)
        } catch {
            return [StageProblem(key: key, "\(error)")]
        }
    }

    static let pretrained: @Sendable (ResolvedStage) -> [StageProblem] = { stage in
        guard let file = stage.config["file"]?.string else { return [] }
        let hint = file.hasSuffix("SmolLM2-135M-Instruct.Q4_1.gguf") ? " (scripts/fetch-smollm2.sh fetches it)" : ""
        let url = URL(fileURLWithPath: file)
        let absent = missing([url], key: "file", hint: hint)
        return absent.isEmpty ? confinement(stage, [url], roots: projectRoots, key: "file") : absent
    }

    /// The project (the working directory, from which `file` and `path` are read) and its data root.
    private static var projectRoots: [(name: String, url: URL)] {
        let project = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return [("project", project), ("data root", PathConfinement.dataRoot(repository: project))]
    }

    /// A path a stage names must stay inside `roots` unless the stage says `allow_outside: true`.
    private static func confinement(_ stage: ResolvedStage, _ urls: [URL], roots: [(name: String, url: URL)],
                                    key: String) -> [StageProblem] {
        let allow = stage.config["allow_outside"]?.bool ?? false
        for url in urls {
            if let problem = PathConfinement.problem(url, allowOutside: allow, roots: roots, owner: "the stage") {
                return [StageProblem(key: key, problem)]
            }
        }
        return []
    }

    /// The `file` values of a prompt set and of its mix parts.
    private static func named(_ spec: PromptSetSpec) -> [String] {
        (spec.file.map { [$0] } ?? []) + (spec.mix ?? []).flatMap { named($0.prompts) }
    }

    /// The files an HF folder must hold (config.json of a Llama, tokenizer.json, the weights); the
    /// run reads them in full and reports deeper problems (shapes, dtypes, template) naming the file.
    static let hfModel: @Sendable (ResolvedStage) -> [StageProblem] = { stage in
        guard let path = stage.config["path"]?.string else { return [] }
        let dir = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            return [StageProblem(key: "path", "folder '\(path)' does not exist")]
        }
        let outside = confinement(stage, [dir], roots: projectRoots, key: "path")
        if !outside.isEmpty { return outside }
        let config = dir.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: config),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return [StageProblem(key: "path", "'\(config.path)' is missing or not a JSON object")]
        }
        guard json["model_type"] as? String == "llama" else {
            return [StageProblem(key: "path", "'\(config.path)': model_type is \(json["model_type"].map { "'\($0)'" } ?? "absent"), PrefLab reads Llama models only")]
        }
        let weights = ["model.safetensors", "model.safetensors.index.json"].map { dir.appendingPathComponent($0) }
        if !weights.contains(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            return [StageProblem(key: "path", "'\(path)' has neither model.safetensors nor model.safetensors.index.json")]
        }
        return missing([dir.appendingPathComponent("tokenizer.json")], key: "path")
    }

    /// What an `hf_model` folder is, from its config.json alone (no weights read): a one-label
    /// `LlamaForSequenceClassification` is a reward model, a `LlamaForCausalLM` (or a config naming no
    /// architecture, which transformers loads as one) a policy. Wired where the other is expected, `validate`
    /// refuses it at the consuming field's line. Nil when config.json cannot be read (`hfModel` reports that).
    static let hfModelOutputs: @Sendable (ResolvedStage) -> (types: [ArtifactType], reason: String)? = { stage in
        if let name = SiteModels.name(stage) { return ([.policy], "'\(name)' is a site-named model, a causal LM") }
        guard let path = stage.config["path"]?.string,
              let data = try? Data(contentsOf: URL(fileURLWithPath: path).appendingPathComponent("config.json")),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        let names = json["architectures"] as? [String] ?? []
        let because = names.isEmpty ? "\(path)/config.json names no architectures, a causal LM"
                                    : "\(path)/config.json's architectures is \(names.joined(separator: ", "))"
        switch names.first {
        case nil, "LlamaForCausalLM": return ([.policy], because)
        case "LlamaForSequenceClassification": return ([.rewardModel], because)
        default: return nil
        }
    }

    private static func openCatalog(_ stage: ResolvedStage) throws -> DatasetCatalog {
        let folder = stage.config["catalog"]?.string ?? "Recipes/datasets"
        guard FileManager.default.fileExists(atPath: folder) else {
            throw DatasetError(file: folder, "catalogue folder '\(folder)' does not exist")
        }
        return try DatasetCatalog(directory: URL(fileURLWithPath: folder))
    }

    private static func problems(key: String, _ files: () throws -> [URL]) -> [StageProblem] {
        do { return missing(try files(), key: key) } catch { return [StageProblem(key: key, "\(error)")] }
    }

    private static func missing(_ files: [URL], key: String, hint: String = "") -> [StageProblem] {
        let absent = files.filter { !FileManager.default.fileExists(atPath: $0.path) }
        guard let first = absent.first else { return [] }
        let more = absent.count > 1 ? " and \(absent.count - 1) more" : ""
        return [StageProblem(key: key, "file '\(first.path)' does not exist\(more)\(hint)")]
    }
}
