import ArgumentParser
import Engines
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Stages

/// `preflab validate`: checks every recipe (and dataset entry) under the given paths.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check recipes: schema, references, graph and trainer parameters.",
        discussion: "Folders are searched for *.yaml. Files under a 'base' folder are partial recipes used by extends; files under 'datasets' are dataset catalogue entries and are checked as such.")

    @Argument(help: "Recipe files or folders.")
    var paths: [String] = ["Recipes"]

    @Option(name: .customLong("set"), help: ArgumentHelp("Override applied to every recipe (repeatable), e.g. scale=paper.", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Also check the recipes against this site: every site-named model (hf_model `model:`) must be in its `models:`.", valueName: "site.yaml"))
    var site: String?

    func run() throws {
        var failures = 0, checked = 0
        let siteConfig = try site.map { try SiteConfig.load(file: $0) }
        for file in try RecipeFiles.find(paths) {
            checked += 1
            for problem in RecipeFiles.problems(file, overrides: overrides, site: siteConfig) {
                failures += 1
                print(problem)
            }
        }
        print("\(checked) recipes checked, \(failures) problems")
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Finding and checking recipe files.
enum RecipeFiles {
    /// Every recipe file under `paths`, sorted, skipping partial (`base/`) and catalogue (`datasets/`) files.
    static func find(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw ValidationError("no such path '\(path)'") }
            guard isDir.boolValue else { files.append(path); continue }
            let items = (fm.enumerator(atPath: path)?.allObjects as? [String]) ?? []
            for item in items where item.hasSuffix(".yaml") || item.hasSuffix(".yml") {
                let parts = item.split(separator: "/")
                if parts.contains("base") || parts.contains("datasets") { continue }
                files.append((path as NSString).appendingPathComponent(item))
            }
        }
        return files.sorted()
    }

    /// Problems of one recipe file: recipe errors (types, ranges, task inputs, engines) and graph errors.
    /// Without a site, models named for a site are not looked up (the recipe is valid anywhere); a node that would
    /// load a model its engine cannot (an OPT model on the embedded engine) is an error either way.
    static func problems(_ file: String, overrides: [String] = [], site: SiteConfig? = nil) -> [String] {
        do {
            let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file, overrides: overrides)
            let graph = try StageSpecs.graph(recipe)
            return SiteModels.errors(graph, siteModels: site?.models, siteFile: site?.file).map(\.description)
        } catch let e as RecipeErrors {
            return e.errors.map(\.description)
        } catch {
            return ["\(file): \(error)"]
        }
    }
}

/// `preflab stages`: the registered stage kinds and their fields.
struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stages", abstract: "List stage kinds and their fields.")

    @Argument(help: "Show only these kinds.")
    var kinds: [String] = []

    @Flag(help: "Print Markdown (a section and a field table per kind) for docs.")
    var markdown = false

    func validate() throws {
        let known = StageSpecs.catalog.kinds
        for k in kinds where !known.contains(k) {
            let hint = didYouMean(k, among: known).map { "; did you mean '\($0)'?" } ?? ""
            throw ValidationError("unknown stage kind '\(k)'\(hint)")
        }
    }

    func run() throws {
        let shown = StageSpecs.all.filter { kinds.isEmpty || kinds.contains($0.kind) }
        print(shown.map { markdown ? $0.schema.markdown() : $0.schema.describe() }.joined(separator: "\n\n"))
    }
}

/// `preflab gc`: removes store entries no listed recipe references.
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove artifacts that no given recipe references.")

    @Argument(help: "Recipes (files or folders) whose nodes are kept.")
    var paths: [String] = ["Recipes"]

    @OptionGroup var store: StoreOptions

    @Flag(help: "Also keep the nodes of each recipe's smoke scale.")
    var keepSmoke = false

    func run() throws {
        var keep = Set<String>()
        let loader = RecipeLoader(catalog: StageSpecs.catalog)
        for file in try RecipeFiles.find(paths) {
            for overrides in keepSmoke ? [[], ["scale=smoke"]] : [[]] {
                guard let recipe = try? loader.load(file: file, overrides: overrides) else { continue }
                keep.formUnion(try StageSpecs.graph(recipe).nodes.map(\.hash))
            }
        }
        let report = try ArtifactStore(root: URL(fileURLWithPath: store.store)).gc(keeping: keep)
        print("kept \(keep.count) nodes; removed \(report.removedObjects.count) artifacts, \(report.removedResume.count) resume folders, \(report.removedTemporaries.count) temporaries")
    }
}

/// `preflab data`: the dataset catalogue.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "Inspect and validate the dataset catalogue.",
                                                    subcommands: [Inspect.self, ValidateData.self])

    struct CatalogOptions: ParsableArguments {
        @Option(help: "The catalogue folder (one YAML per dataset).")
        var catalog: String = "Recipes/datasets"

        func open() throws -> DatasetCatalog { try DatasetCatalog(directory: URL(fileURLWithPath: catalog)) }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts, length histograms, skipped rows and examples of one dataset.")

        @Argument(help: "Dataset name (a file in the catalogue, without .yaml).")
        var name: String

        @OptionGroup var options: CatalogOptions

        @Option(help: "Examples to show.")
        var examples: Int = 3

        @Option(help: "Seed of downsampling and the held-out split.")
        var seed: UInt64 = 0

        func run() throws {
            print(DatasetInspector.render(try options.open().load(name, seed: seed), examples: examples))
        }
    }

    struct ValidateData: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "Load every catalogue entry and report problems.")

        @OptionGroup var options: CatalogOptions

        func run() throws {
            var bad = 0
            for (name, result) in try options.open().validateAll() {
                switch result {
                case .success(let report):
                    // Rows lost to malformed input are reported, never hidden behind "ok"; a damaged
                    // compressed file (its tail is lost) fails the check.
                    let lost = report.skipped.filter(\.reason.isMalformed)
                    let damaged = report.count(.truncatedGzip) > 0
                    if damaged { bad += 1 }
                    let word = damaged ? "FAIL " : lost.isEmpty ? "ok   " : "warn "
                    print("\(word) \(name): \(report.kept) rows kept of \(report.rowsRead)"
                          + (lost.isEmpty ? "" : "; malformed: " + lost.map { "\($0.count) \($0.reason.rawValue)" }.joined(separator: ", ")))
                    for example in lost.flatMap({ $0.examples.prefix(1) }) { print("        e.g. \(example)") }
                case .failure(let error): bad += 1; print("FAIL  \(name): \(error)")
                }
            }
            if bad > 0 { throw ExitCode(1) }
        }
    }
}
