import Foundation
import Pipeline
import RecipeSpec

/// What a delegated node starts, before any launcher wraps it: an interpreter running a script or a module.
public struct EngineProgram: Sendable, Equatable {
    public enum Entry: Sendable, Equatable {
        /// `python path/to/script.py ARGS`
        case script(String)
        /// `python -m module ARGS`
        case module(String)
    }

    /// The engine's interpreter (the site's `python.<engine>`).
    public var python: String
    public var entry: Entry
    public var arguments: [String]
    /// The engine places its own workers (OpenRLHF starts Ray actors with their own GPUs): it is started as one
    /// process, never under torchrun, and the launcher reserves no GPUs for that process (they would deadlock
    /// the engine's own placement groups).
    public var placesOwnWorkers: Bool
    /// Words before the interpreter that run it inside a container (the site's `container.<engine>`), or none.
    public var container: [String]

    public init(python: String, entry: Entry, arguments: [String], placesOwnWorkers: Bool = false, container: [String] = []) {
        self.python = python
        self.entry = entry
        self.arguments = arguments
        self.placesOwnWorkers = placesOwnWorkers
        self.container = container
    }

    /// `python script ARGS` or `python -m module ARGS` (in the container, if any).
    public var plain: [String] { container + [python] + entryArguments }

    /// What follows the interpreter (or torchrun's options): the script or `-m module`, then the arguments.
    var entryArguments: [String] {
        switch entry {
        case .script(let path): return [path] + arguments
        case .module(let name): return ["-m", name] + arguments
        }
    }
}

/// The exact launch of one delegated node: the folder it starts in, the variables added to its environment and
/// the command line (the site's launcher around the engine's program). `preflab plan --commands` prints it; the
/// runner starts exactly this.
public struct EngineLaunch: Sendable, Equatable {
    public var directory: String
    public var environment: [String: String]
    public var command: [String]

    public init(directory: String, environment: [String: String], command: [String]) {
        self.directory = directory
        self.environment = environment
        self.command = command
    }

    /// A shell script that performs the launch: `cd`, the environment one variable a line, then the command with
    /// one option (and its values) a line.
    public var script: String {
        var lines = ["cd " + Launcher.shellQuoted(directory)]
        lines += environment.keys.sorted().map { "export \($0)=" + Launcher.shellQuoted(environment[$0] ?? "") }
        var command: [String] = []
        for arg in self.command.map(Launcher.shellQuoted) {
            if arg.hasPrefix("--"), !command.isEmpty { command.append(" \\\n    " + arg) } else { command.append((command.isEmpty ? "" : " ") + arg) }
        }
        return (lines + [command.joined()]).joined(separator: "\n") + "\n"
    }
}

/// A delegated runner that can say, without running or writing anything, what it would launch for a node.
public protocol PlannedLaunch: StageRunner {
    /// The launch for node `hash` of `stage` whose inputs are the finished folders `inputs` and whose resume
    /// folder is `resumeDirectory` (paths only: nothing is read from them).
    func launch(hash: String, stage: ResolvedStage, inputs: [String: URL], resumeDirectory: URL) throws -> EngineLaunch
}

/// The launch plan of a graph (`preflab plan --commands`): every node with its engine and the resources the site
/// gives it; for a delegated node, the exact launch its runner would start.
public enum LaunchPlan {
    /// One block per node, in graph order. A delegated node whose launch cannot be built (a refused option, no GPUs
    /// on the site, no runner) says why instead of a command.
    /// `refusals`: node hash → why it cannot run as planned (`SiteModels.refusals`), printed in its block.
    public static func render(graph: PipelineGraph, store: ArtifactStore, site: SiteConfig,
                              runners: [RunnerKey: any StageRunner], refusals: [String: [String]] = [:]) -> String {
        var blocks: [String] = []
        for node in graph.nodes {
            var head = "# \(node.stage.name): \(node.kind) on \(node.engine), \(node.hash)"
            if store.isComplete(node.hash) { head += " [cached]" }
            head += "\n# resources: \(site.resources(kind: node.kind, engine: node.engine))\n"
            head += (refusals[node.hash] ?? []).map { "# cannot run: " + relative($0) + "\n" }.joined()
            blocks.append(head + (node.engine == EngineDescriptor.embeddedName ? "# runs inside PrefLab\n" : launchText(node, store: store, runners: runners)))
        }
        let delegated = graph.nodes.filter { $0.engine != EngineDescriptor.embeddedName }.count
        let site = "# site: " + (site.file ?? "none (local launcher, no GPUs)") + "\n"
        return ([site + "# \(graph.nodes.count) nodes, \(delegated) delegated\n"] + blocks).joined(separator: "\n")
    }

    /// A refusal's `file:line:col` from the working folder, so a plan reads the same from any checkout.
    static func relative(_ text: String) -> String {
        text.replacingOccurrences(of: FileManager.default.currentDirectoryPath + "/", with: "")
    }

    static func launchText(_ node: GraphNode, store: ArtifactStore, runners: [RunnerKey: any StageRunner]) -> String {
        guard let planner = runners[node.runnerKey] as? any PlannedLaunch else {
            return "# not launchable: no runner for \(node.kind) on \(node.engine)\n"
        }
        var inputs: [String: URL] = [:]
        for input in node.inputs { inputs[input.field] = store.objectDirectory(for: input.hash) }
        do {
            return try planner.launch(hash: node.hash, stage: node.stage, inputs: inputs,
                                      resumeDirectory: store.resumePath(for: node.hash)).script
        } catch {
            return "# not launchable: \(error)\n"
        }
    }
}
