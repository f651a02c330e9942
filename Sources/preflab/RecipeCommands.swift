import Engines
import ArgumentParser
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import Tensor

/// Loads a recipe against the stage catalogue. Every check (types, ranges, trainer parameters, task
/// inputs, engines) is part of loading, so `run` fails before any node starts.
func loadRecipe(_ options: RecipeOptions) throws -> ResolvedRecipe {
    do {
        return try RecipeLoader(catalog: StageSpecs.catalog).load(file: options.recipe, overrides: options.overrides)
    } catch let errors as RecipeErrors {
        // Each line already reads "file:line:col: error: ..."; ArgumentParser would prefix "Error: " again.
        printError(errors.description + "\n")
        throw ExitCode(1)
    }
}

/// Every runner a run on `site` uses: the embedded engine's (site-named models from the site's folders), then the
/// delegated engines'.
func allRunners(site: SiteConfig) -> [RunnerKey: any StageRunner] {
    EmbeddedRunners.all(siteModels: site.models).merging(DelegatedRunners.all(site: site)) { embedded, _ in embedded }
}

/// Stops before any node starts when a node would load a model its engine cannot (an OPT model on the embedded
/// engine) or names a model the site does not place: the same errors `validate --site` prints.
func refuseUnrunnable(_ graph: PipelineGraph, site: SiteConfig) throws {
    let errors = SiteModels.errors(graph, siteModels: site.models, siteFile: site.file)
    guard !errors.isEmpty else { return }
    printError(RecipeErrors(errors).description + "\n")
    throw ExitCode(1)
}

/// Writes to stderr; a closed stderr must not trap (the old `FileHandle.write(_:)` raises on failure).
func printError(_ text: String) {
    try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
}

/// `preflab run`: executes a recipe's graph, reusing every finished node, then writes its table and plots.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a recipe end to end, reusing cached nodes.")

    @OptionGroup var recipe: RecipeOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "Nodes run at once (default 1; --executor ray: nodes in flight at once, default 64, placed by Ray by their resources).")
    var jobs: Int?

    @Option(help: "Where the table and plots go: <results>/<recipe name>/.")
    var results: String = "Results"

    @Option(help: "Threads for the engine (BLAS and parallel loops); default: every core.")
    var threads: Int?

    @Option(help: ArgumentHelp("Where delegated nodes run: launcher, processes/GPUs per stage kind, Python per engine (examples/site-*.yaml). Never hashed; recorded in node.json.", valueName: "site.yaml"))
    var site: String?

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard (threads ?? 1) >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        // Read before any node runs, so that a bad site file fails with its file:line at once.
        let siteConfig = try site.map { try SiteConfig.load(file: $0) } ?? SiteConfig()
        let resolved = try loadRecipe(recipe)
        let graph = try StageSpecs.graph(resolved)
        try refuseUnrunnable(graph, site: siteConfig)
        let artifacts = try ArtifactStore(root: URL(fileURLWithPath: store.store), leaseSeconds: cluster.leaseSeconds)
        EmbeddedRunners.configureEngine(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        Interrupts.install()
        let runners = allRunners(site: siteConfig)
        let dispatcher = try cluster.dispatcher(recipe: recipe, store: artifacts, site: site, siteConfig: siteConfig)
        defer { dispatcher?.close() }
        let executor = Executor(store: artifacts, runners: runners, jobs: jobs ?? (dispatcher == nil ? 1 : 64),
                                display: TerminalProgressDisplay(), site: siteConfig.provenanceJSON, dispatcher: dispatcher,
                                host: BLASCore.hostFacts())
        let report = try executor.run(graph)
        for failure in report.failures {
            printError("\(failure.status): \(failure.stage) (\(failure.kind)) — log: \(artifacts.logFile(for: failure.hash).path)\n")
        }
        guard report.succeeded else { throw ExitCode(1) }
        print("ran \(report.ranCount) of \(report.nodes.count) nodes in \(String(format: "%.1f", report.wallSeconds)) s")
        if resolved.table != nil || !resolved.plots.isEmpty {
            try writeResults(resolved, graph: graph, store: artifacts, results: results)
        }
    }
}

/// Builds a recipe's table and plots from the finished nodes in the store and writes them under
/// `results/<recipe name>/`.
func writeResults(_ recipe: ResolvedRecipe, graph: PipelineGraph, store: ArtifactStore, results: String) throws {
    let command = (["preflab"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
    // Nothing damaged reaches a table: a node failing its manifest is moved aside and shown as missing.
    for node in graph.nodes {
        _ = store.isIntact(node.hash) { printError("warning: \($0)\n") }
    }
    let folder = URL(fileURLWithPath: results)
    if recipe.table != nil {
        let table = try TableBuilder.build(recipe: recipe, graph: graph, store: store, command: command,
                                           paperCSV: TableBuilder.paperURL(for: recipe))
        let dir = try table.write(to: folder)
        print(table.markdown)
        print("table written to \(dir.path)")
        try writeVerdicts(recipe, table: table, results: folder)
    }
    for plot in try PlotBuilder.buildAll(recipe: recipe, graph: graph, store: store, command: command) {
        let files = try plot.write(to: folder)
        let missing = plot.missing.isEmpty ? "" : " (\(plot.missing.count) run(s) missing)"
        print("plot written to " + files.map(\.path).joined(separator: ", ") + missing)
    }
}

/// `preflab table`: a recipe's table and plots from what the store holds, without running anything.
struct Table: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a recipe's table and plots from the finished nodes in the store (runs nothing).",
        discussion: "Cells whose nodes are not finished are reported as missing.")

    @OptionGroup var recipe: RecipeOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "Where the table and plots go: <results>/<recipe name>/.")
    var results: String = "Results"

    func run() throws {
        let resolved = try loadRecipe(recipe)
        guard resolved.table != nil || !resolved.plots.isEmpty else {
            throw ValidationError("recipe '\(resolved.name)' has neither a table: nor a plots: block")
        }
        let graph = try StageSpecs.graph(resolved)
        try writeResults(resolved, graph: graph, store: try ArtifactStore(root: URL(fileURLWithPath: store.store)),
                       results: results)
    }
}

/// `preflab resolve`: the fully resolved recipe, one YAML document per matrix cell.
struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the fully resolved recipe (defaults, extends, matrix).")

    @OptionGroup var recipe: RecipeOptions

    func run() throws {
        print(RecipeRenderer.yaml(try loadRecipe(recipe)), terminator: "")
    }
}

/// `preflab plan`: the pipeline graph, with cached nodes marked.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a recipe's pipeline graph and which nodes are cached.")

    @OptionGroup var recipe: RecipeOptions
    @OptionGroup var store: StoreOptions

    @Flag(help: "Print Graphviz DOT instead of a text tree.")
    var dot = false

    @Flag(help: "Print, for every delegated node, the exact launch run would start (folder, environment, command); runs nothing.")
    var commands = false

    @Option(help: ArgumentHelp("The site file the launch commands are built for (with --commands).", valueName: "site.yaml"))
    var site: String?

    func validate() throws {
        if site != nil && !commands { throw ValidationError("--site needs --commands (plan shows launch commands only with it)") }
    }

    func run() throws {
        let siteConfig = try site.map { try SiteConfig.load(file: $0) } ?? SiteConfig()
        let graph = try StageSpecs.graph(try loadRecipe(recipe))
        let artifacts = try? ArtifactStore(root: URL(fileURLWithPath: store.store))
        if commands, let artifacts {
            // Names are checked against a site when one is given; a node that cannot run says why in its block.
            let refusals = SiteModels.refusals(graph, siteModels: site == nil ? nil : siteConfig.models, siteFile: site)
            print(LaunchPlan.render(graph: graph, store: artifacts, site: siteConfig, runners: DelegatedRunners.all(site: siteConfig),
                                    refusals: Dictionary(grouping: refusals, by: \.hash).mapValues { $0.map(\.error.description) }),
                  terminator: "")
            return
        }
        print(dot ? PlanRenderer.dot(graph: graph, store: artifacts) : PlanRenderer.text(graph: graph, store: artifacts),
              terminator: "")
    }
}

/// `preflab diff`: a semantic diff of two resolved recipes and the nodes the second would recompute.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two recipes: changed keys, matrix cells, and nodes that would be recomputed.",
        discussion: "Exits 0 when the resolved recipes are equal, 1 when they differ.")

    @Argument(help: "The first recipe.") var a: String
    @Argument(help: "The second recipe.") var b: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override applied to both (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func run() throws {
        let loader = RecipeLoader(catalog: StageSpecs.catalog)
        let ra = try loader.load(file: a, overrides: overrides), rb = try loader.load(file: b, overrides: overrides)
        let diff = RecipeDiff.between(ra, rb)
        let recompute = nodesToRecompute(from: try StageSpecs.graph(ra),
                                         to: try StageSpecs.graph(rb))
        if diff.isEmpty && recompute.isEmpty {
            print("recipes are equal")
            return
        }
        print(diff.render(), terminator: "")
        print("nodes to recompute (\(recompute.count)):")
        for n in recompute { print("  \(n.shortHash)  \(n.kind)  \(n.stage.name)") }
        throw ExitCode(1)
    }
}
