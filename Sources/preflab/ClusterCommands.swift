import ArgumentParser
import Engines
import Foundation
import Pipeline
import StageSpecs
import Stages
import Tensor

/// Where `run` computes nodes: in this process (the default) or as Ray tasks.
struct ClusterOptions: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable { case local, ray }

    @Option(help: "local: nodes run in this process (--jobs at once); ray: each ready node is a Ray task running `preflab run-node` (the store must be on a file system every worker sees).")
    var executor: Kind = .local

    @Option(help: "--executor ray: the cluster, as ray.init takes it ('auto', 'ray://head:10001'); default: start one on this machine.")
    var address: String?

    @Option(help: "Seconds a node's lease lasts without renewal before another run or worker may take the node over (a dead holder on this machine loses it at once).")
    var leaseSeconds: Double = ArtifactStore.defaultLeaseSeconds

    func validate() throws {
        guard leaseSeconds >= 1 else { throw ValidationError("--lease-seconds must be at least 1") }
        if address != nil && executor != .ray { throw ValidationError("--address needs --executor ray") }
    }

    /// The Ray driver for `--executor ray`, nil for the local executor.
    func dispatcher(recipe: RecipeOptions, store: ArtifactStore, site: String?, siteConfig: SiteConfig) throws -> RayDispatcher? {
        guard executor == .ray else { return nil }
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : cwd + "/" + path }
        let preflab = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let fixed = [absolute(recipe.recipe), "--store", store.root.path, "--lease-seconds", "\(leaseSeconds)"]
            + recipe.overrides.flatMap { ["--set", $0] } + (site.map { ["--site", absolute($0)] } ?? [])
        let environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("PREFLAB_") }
        return try RayDispatcher(.init(
            python: siteConfig.python(for: "ray"), address: address, directory: cwd,
            nodeCommand: { node in
                [preflab, "run-node", node.hash] + fixed + ["--threads", "\(siteConfig.resources(kind: node.kind, engine: node.engine).cpus)"]
            },
            resources: { siteConfig.resources(kind: $0.kind, engine: $0.engine) }, environment: environment))
    }
}

/// `preflab run-node HASH RECIPE`: computes one node whose inputs are finished, with the same lock, cache check,
/// commit and failure log as `run` (the same lease lock: this is what each Ray task of `--executor ray` runs).
struct RunNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-node", abstract: "Compute one node of a recipe whose inputs are finished (what --executor ray runs on each worker).",
        discussion: "Exits 0 when the node is finished (computed now or already), 1 when it failed (its log is in the store's logs/).")

    @Argument(help: "The node's full hash (preflab plan --commands lists them).")
    var hash: String

    @OptionGroup var recipe: RecipeOptions
    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("The site file delegated nodes run on.", valueName: "site.yaml"))
    var site: String?

    @Option(help: "Threads for the engine (BLAS and parallel loops); default: every core.")
    var threads: Int?

    @Option(help: "Seconds the node's lease lasts without renewal before another worker may take it over.")
    var leaseSeconds: Double = ArtifactStore.defaultLeaseSeconds

    func run() throws {
        let siteConfig = try site.map { try SiteConfig.load(file: $0) } ?? SiteConfig()
        let graph = try StageSpecs.graph(try loadRecipe(recipe))
        let artifacts = try ArtifactStore(root: URL(fileURLWithPath: store.store), leaseSeconds: leaseSeconds)
        EmbeddedRunners.configureEngine(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        Interrupts.install()
        let runners = allRunners(site: siteConfig)
        let executor = Executor(store: artifacts, runners: runners, display: TerminalProgressDisplay(), site: siteConfig.provenanceJSON,
                                host: BLASCore.hostFacts())
        let report = try executor.runNode(graph, hash: hash)
        if case .failed(let error, let log) = report.outcome {
            printError("failed: \(report.stage) (\(report.kind)): \(error) — log: \(log.path)\n")
            throw ExitCode(1)
        }
        print("node \(report.hash) \(report.stage) (\(report.kind)): \(report.outcome)")
    }
}
