import Foundation
import RecipeSpec

/// Where delegated nodes run (`preflab run --site site.yaml`): launcher, processes and GPUs per stage kind,
/// the Python environment per engine. Never hashed — the same node computed on another site keeps its hash —
/// and recorded in the node's `node.json` as provenance.
public struct SiteConfig: Codable, Equatable, Sendable {
    /// How a job starts: `local` (python), `torchrun` (several processes, gloo on CPU), `ray` (`ray job submit`)
    /// or `sbatch` (`sbatch --wait`).
    public var launcher: Launcher = .local
    /// Processes (torchrun ranks) per stage kind; `default` for kinds not listed. 1 when absent.
    public var processes: [String: Int] = [:]
    /// GPUs per stage kind (OpenRLHF placement, `sbatch --gpus`); `default` for kinds not listed. 0 when absent.
    public var gpus: [String: Int] = [:]
    /// CPU cores per stage kind (`default` for kinds not listed; 1 when absent): what `--executor ray` reserves
    /// for a node, and the threads an embedded node uses there.
    public var cpus: [String: Int] = [:]
    /// Python interpreter per engine (`trl`, `openrlhf`, and `ray` for `--executor ray`); default
    /// `.venv-engines/bin/python` (`.venv-ray/bin/python` for ray) in the working folder.
    public var python: [String: String] = [:]
    /// A container per engine: the words put before its interpreter, e.g. `[apptainer, exec, --nv, /images/openrlhf.sif]`
    /// (the interpreter is then the one inside the image).
    public var container: [String: [String]] = [:]
    /// Numeric precision per engine this site trains in; a node whose hashed precision differs is refused, never
    /// silently run in another one.
    public var precision: [String: String] = [:]
    /// `ray job submit --address` (launcher `ray`).
    public var rayAddress: String? = nil
    /// Extra `sbatch` arguments, e.g. `--partition=gpu` (launcher `sbatch`).
    public var sbatchArgs: [String] = []
    /// The folder of each model a recipe names (`hf_model` with `model: NAME`), as the nodes see it where they run
    /// (docs/sites.md); `validate --site`, `plan --commands --site` and `run --site` check that every named model is here.
    public var models: [String: String] = [:]
    /// The file it was read from (provenance).
    public var file: String? = nil

    public enum Launcher: String, Codable, Sendable, CaseIterable { case local, torchrun, ray, sbatch }

    public init() {}

    /// Ranks for a node of `kind`.
    public func processes(for kind: String) -> Int { processes[kind] ?? processes["default"] ?? 1 }
    /// GPUs for a node of `kind`.
    public func gpus(for kind: String) -> Int { gpus[kind] ?? gpus["default"] ?? 0 }
    /// CPU cores for a node of `kind`.
    public func cpus(for kind: String) -> Int { cpus[kind] ?? cpus["default"] ?? 1 }

    /// What a node of `kind` on `engine` reserves on a cluster. An embedded node runs on CPU only: no GPUs,
    /// whatever the site gives its kind for a delegated engine.
    public func resources(kind: String, engine: String) -> NodeResources {
        let delegated = engine != EngineDescriptor.embeddedName
        return NodeResources(cpus: cpus(for: kind), gpus: delegated ? gpus(for: kind) : 0,
                             processes: delegated ? processes(for: kind) : 1)
    }

    /// The interpreter of `engine`; a relative path (`.venv-engines/bin/python`) is from the directory preflab runs
    /// in, since the job itself runs in the node's resume folder.
    public func python(for engine: String) -> String {
        let path = python[engine] ?? (engine == "ray" ? ".venv-ray/bin/python" : ".venv-engines/bin/python")
        return path.hasPrefix("/") || !path.contains("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The program of `engine`: its container's words (if any), its interpreter, the entry and the arguments.
    public func program(engine: String, entry: EngineProgram.Entry, arguments: [String], placesOwnWorkers: Bool = false) -> EngineProgram {
        EngineProgram(python: python(for: engine), entry: entry, arguments: arguments, placesOwnWorkers: placesOwnWorkers,
                      container: container[engine] ?? [])
    }

    /// The site as one line of canonical JSON, for node.json.
    public var provenanceJSON: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    static let keys = ["launcher", "processes", "gpus", "cpus", "python", "container", "precision", "ray_address", "sbatch_args", "models"]

    /// Reads a site file; unknown keys and wrong values are errors with file:line:column.
    public static func load(file: String) throws -> SiteConfig {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SiteError("\(file): cannot read the site file (\(error.localizedDescription))")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> SiteConfig {
        let root = try YAMLReader.read(text, file: file)
        guard let entries = root.entries else { throw SiteError(at: root, "site: expected a map of \(keys.joined(separator: ", "))") }
        var site = SiteConfig()
        site.file = file
        for (key, node) in entries {
            switch key {
            case "launcher":
                guard let s = node.string, let l = Launcher(rawValue: s) else {
                    throw SiteError(at: node, "site.launcher: expected one of \(Launcher.allCases.map(\.rawValue).joined(separator: ", "))"
                                    + (node.string.flatMap { didYouMean($0, among: Launcher.allCases.map(\.rawValue)) }.map { " (did you mean \($0)?)" } ?? ""))
                }
                site.launcher = l
            case "processes": site.processes = try counts(node, "site.processes", minimum: 1)
            case "gpus": site.gpus = try counts(node, "site.gpus", minimum: 0)
            case "cpus": site.cpus = try counts(node, "site.cpus", minimum: 1)
            case "python": site.python = try strings(node, "site.python")
            case "models": site.models = try strings(node, "site.models", of: "model name → folder")
            case "container":
                guard let entries = node.entries else { throw SiteError(at: node, "site.container: expected a map of engine → list of words") }
                for (engine, words) in entries {
                    guard let list = words.list, !list.isEmpty, list.allSatisfy({ $0.string != nil }) else {
                        throw SiteError(at: words, "site.container.\(engine): expected a non-empty list of words, e.g. [apptainer, exec, --nv, image.sif]")
                    }
                    site.container[engine] = list.compactMap(\.string)
                }
            case "precision":
                site.precision = try strings(node, "site.precision")
                for (engine, p) in site.precision where !["float32", "bfloat16", "float16"].contains(p) {
                    throw SiteError(at: node[engine] ?? node, "site.precision.\(engine): expected float32, bfloat16 or float16, found \(p)")
                }
            case "ray_address":
                guard let s = node.string else { throw SiteError(at: node, "site.ray_address: expected a string") }
                site.rayAddress = s
            case "sbatch_args":
                guard let list = node.list, list.allSatisfy({ $0.string != nil }) else {
                    throw SiteError(at: node, "site.sbatch_args: expected a list of strings")
                }
                site.sbatchArgs = list.compactMap(\.string)
            default:
                throw SiteError(at: node, "site: unknown key '\(key)'; expected one of \(keys.joined(separator: ", "))"
                                + (didYouMean(key, among: keys).map { " (did you mean \($0)?)" } ?? ""))
            }
        }
        return site
    }

    private static func counts(_ node: ConfigNode, _ path: String, minimum: Int) throws -> [String: Int] {
        guard let entries = node.entries else { throw SiteError(at: node, "\(path): expected a map of stage kind → count") }
        var out: [String: Int] = [:]
        for (k, v) in entries {
            guard let n = v.int, n >= minimum else { throw SiteError(at: v, "\(path).\(k): expected an integer >= \(minimum)") }
            out[k] = n
        }
        return out
    }

    private static func strings(_ node: ConfigNode, _ path: String, of what: String = "engine → value") throws -> [String: String] {
        guard let entries = node.entries else { throw SiteError(at: node, "\(path): expected a map of \(what)") }
        var out: [String: String] = [:]
        for (k, v) in entries {
            guard let s = v.string else { throw SiteError(at: v, "\(path).\(k): expected a string") }
            out[k] = s
        }
        return out
    }
}

/// A bad site file.
public struct SiteError: Error, CustomStringConvertible {
    public var description: String
    init(_ message: String) { description = message }
    init(at node: ConfigNode, _ message: String) {
        description = (node.location ?? node.keyLocation).map { "\($0): " }.map { $0 + message } ?? message
    }
}

/// What one node reserves where it runs.
public struct NodeResources: Sendable, Equatable, CustomStringConvertible {
    public var cpus: Int
    public var gpus: Int
    /// Engine ranks (torchrun processes) of a delegated node; 1 for an embedded one.
    public var processes: Int

    public init(cpus: Int, gpus: Int, processes: Int) {
        self.cpus = cpus
        self.gpus = gpus
        self.processes = processes
    }

    public var description: String { "cpus \(cpus), gpus \(gpus), processes \(processes)" }
}
