import Engines
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// Every paper recipe at `scale=paper` on the Slurm example site: each node's engine, resources and exact launch,
/// and for each node that cannot run as planned, why (`# cannot run:`). One golden file per recipe
/// (`Golden/paper-*.txt`), so a change shows in the recipe it touches. These runs need a GPU cluster; none was run here.
final class PaperScaleTests: XCTestCase {
    typealias S = EngineTestSupport

    static let recipes: [String] = ["d2po", "unpacking"].flatMap { dir in
        ((try? FileManager.default.contentsOfDirectory(atPath: S.repo.appendingPathComponent("Recipes/\(dir)").path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "Recipes/\(dir)/\($0)" }
    }

    func testEveryPaperRecipePlansOnTheSlurmSite() throws {
        XCTAssertEqual(Self.recipes.count, 22)
        var site = try SiteConfig.load(file: S.repo.appendingPathComponent("examples/site-slurm.yaml").path)
        site.file = "examples/site-slurm.yaml"
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.root) }
        var refused: [String: Int] = [:]
        for file in Self.recipes {
            let graph = try StageSpecs.graph(try S.recipe(file, overrides: ["scale=paper"]))
            let refusals = SiteModels.refusals(graph, siteModels: site.models, siteFile: site.file)
            XCTAssertFalse(refusals.contains { $0.error.keyPath.hasSuffix(".model") }, "the site places every model of \(file)")
            refused[file] = Set(refusals.map(\.hash)).count
            var text = "# preflab plan \(file) --set scale=paper --site examples/site-slurm.yaml --commands\n"
            text += LaunchPlan.render(graph: graph, store: store, site: site, runners: DelegatedRunners.all(site: site),
                                      refusals: Dictionary(grouping: refusals, by: \.hash).mapValues { $0.map(\.error.description) })
            text = text.replacingOccurrences(of: store.root.path, with: "/STORE")
                .replacingOccurrences(of: S.repo.path + "/", with: "")
                .replacingOccurrences(of: FileManager.default.currentDirectoryPath, with: "$PWD")
            let name = file.dropFirst("Recipes/".count).replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: ".yaml", with: ".txt")
            try S.checkGolden("paper-" + name, text)
        }
        // TÜLU 2 is a Llama: every Unpacking node can run as planned. D2PO's OPT folders, its TRL nodes (CD's scorers and
        // the accuracies' scoring job too), PPO on OpenRLHF and its vLLM sampling and evaluation (text mode) can, and
        // so can Figure 6's d2po with PrefLab's probe (the bridge scores the judges, `preflab annotate` the accuracy).
        for (file, count) in refused where file.contains("unpacking") { XCTAssertEqual(count, 0, file) }
        XCTAssertEqual(refused["Recipes/d2po/figure8.yaml"], 0, "D2PO's realistic setting starts from TÜLU 2 7B, a Llama")
        XCTAssertEqual(refused["Recipes/d2po/table2.yaml"], 0, "OPT on TRL, OpenRLHF and vLLM, CD's scorers from their folders")
        XCTAssertEqual(refused["Recipes/d2po/figure6.yaml"], 0, "PrefLab's accuracy probe of the judges on TRL")
        XCTAssertEqual(refused["Recipes/d2po/table4.yaml"], 0, "its preferences and evaluations sample the OPT on vLLM")
    }
}
