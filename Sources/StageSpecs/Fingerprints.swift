import DataSpecs
import Foundation
import Pipeline
import RecipeSpec

/// What the kinds that read files from outside the graph fingerprint: editing an entry, a data file
/// or a model file makes new nodes instead of reusing ones made from the old contents.
public enum Fingerprints {
    /// `pretrained`: the model file, by content.
    public static let modelFile: @Sendable (ResolvedStage) throws -> String = { stage in
        let file = stage.config["file"]?.string ?? ""
        return fileFingerprint([URL(fileURLWithPath: file)], root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// `hf_model`: every file of the folder that the stage reads (config, tokenizer files, chat
    /// template, the weights: one file or the shards the index names), by content.
    public static let hfFolder: @Sendable (ResolvedStage) throws -> String = { stage in
        let dir = URL(fileURLWithPath: stage.config["path"]?.string ?? "")
        let fm = FileManager.default
        var files = ["config.json", "tokenizer.json"].map { dir.appendingPathComponent($0) }
        files += ["tokenizer_config.json", "chat_template.jinja", "preflab_chat_template.json", "chat_template.json"]
            .map { dir.appendingPathComponent($0) }.filter { fm.fileExists(atPath: $0.path) }
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        if let data = try? Data(contentsOf: index),
           let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let map = json["weight_map"] as? [String: String] {
            files += [index] + Set(map.values).sorted().map { dir.appendingPathComponent($0) }
        } else {
            files.append(dir.appendingPathComponent("model.safetensors"))
        }
        return fileFingerprint(files, root: URL(fileURLWithPath: fm.currentDirectoryPath))
    }

    /// `dataset`: the catalogue entry's YAML and the data files it reads (a mixture: its components').
    public static let datasetEntry: @Sendable (ResolvedStage) throws -> String = { stage in
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: stage.config["catalog"]?.string ?? "Recipes/datasets"))
        return fileFingerprint(catalog.inputFiles(of: stage.config["name"]?.string ?? ""), root: catalog.root)
    }

    /// `prompt_set`: its entry's files, its prompt file, or its mix parts' files.
    public static let promptSet: @Sendable (ResolvedStage) throws -> String = { stage in
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: stage.config["catalog"]?.string ?? "Recipes/datasets"))
        return fileFingerprint(catalog.inputFiles(of: try PromptSetSpec(config: stage.config)), root: catalog.root)
    }

    /// SHA-256 over each file's path relative to `root` (with `..` steps when outside it, so a checkout and the
    /// data beside it hash alike wherever they are placed) and content digest, in order; a missing file counts
    /// as "missing" (the run reports it).
    public static func fileFingerprint(_ files: [URL], root: URL) -> String {
        let lines = files.map { url -> String in
            let name = relativePath(lexicallyNormalized(url.path), from: lexicallyNormalized(root.path))
            guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return name + " missing" }
            return name + " " + data.withUnsafeBytes { SHA256.hex(bytes: Array($0)) }
        }
        return SHA256.hex(lines.joined(separator: "\n"))
    }

    /// `path` relative to the folder `root`: "a/b" inside it, "../x/a" beside it.
    static func relativePath(_ path: String, from root: String) -> String {
        let p = path.split(separator: "/"), r = root.split(separator: "/")
        var common = 0
        while common < min(p.count, r.count), p[common] == r[common] { common += 1 }
        return (Array(repeating: "..", count: r.count - common) + p[common...].map(String.init)).joined(separator: "/")
    }
}

extension PromptSetSpec {
    /// The prompt set a `prompt_set` stage (or one part of its `mix`) describes.
    public init(config: ConfigNode) throws {
        func part(_ node: ConfigNode) throws -> PromptMixPart {
            guard let weight = node["weight"]?.double, let prompts = node["prompts"] else {
                throw RecipeError(location: node.location, keyPath: "mix", message: "a mix part needs 'weight' (a number) and 'prompts' (a prompt set)")
            }
            return PromptMixPart(weight: weight, prompts: try PromptSetSpec(config: prompts))
        }
        let mix = try config["mix"].flatMap { $0.value.isNull ? nil : $0 }.map { node -> [PromptMixPart] in
            guard let items = node.list else {
                throw RecipeError(location: node.location, keyPath: "mix", message: "'mix' must be a list of { weight, prompts }")
            }
            return try items.map(part)
        }
        self.init(dataset: config["dataset"]?.string, split: config["split"]?.string, file: config["file"]?.string,
                  field: config["field"]?.string, mix: mix, size: config["size"]?.int)
    }
}
