import ArgumentParser
import Foundation
import Pipeline

/// `preflab store`: checks of the artifact store itself.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Check the artifact store's integrity.",
                                                    subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every finished node against its manifest (size and SHA-256 of each file).",
            discussion: "Exits 1 when a node is damaged. With --repair, damaged nodes are moved to <store>/quarantine/ "
                + "(kept for inspection, never deleted) and the next run recomputes them. With --adopt, nodes committed "
                + "before manifests existed are checked by structure (JSON parses, safetensors lengths match) and given one.")

        @OptionGroup var store: StoreOptions

        @Flag(help: "Move damaged nodes to the quarantine folder so that the next run recomputes them.")
        var repair = false

        @Flag(help: "Give nodes without a manifest one, after a structural check of their files.")
        var adopt = false

        func run() throws {
            let artifacts = try ArtifactStore(root: URL(fileURLWithPath: store.store))
            let results = try artifacts.verifyAll(repair: repair, adopt: adopt)
            var damaged = 0, unverifiable = 0
            for r in results {
                switch r.result {
                case .intact: continue
                case .unverifiable: unverifiable += 1
                case let .damaged(file, reason):
                    damaged += 1
                    let moved = r.quarantined.map { "; moved to \($0.path)" } ?? (repair ? "; in use, left in place" : "")
                    print("damaged: \(r.hash) \(file): \(reason)\(moved)")
                }
            }
            print("\(results.count) nodes: \(results.count - damaged - unverifiable) intact, \(damaged) damaged, "
                  + "\(unverifiable) without a manifest (committed before manifests; --adopt checks and adopts them)")
            if damaged > 0 && !repair { throw ExitCode(1) }
        }
    }
}
