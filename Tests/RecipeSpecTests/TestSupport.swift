import Foundation
import XCTest
@testable import RecipeSpec

/// Writes recipe files into a fresh temporary folder and loads them.
struct RecipeFiles {
    let dir: String

    init(_ files: [String: String]) throws {
        dir = NSTemporaryDirectory() + "recipespec-" + UUID().uuidString
        for (name, text) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    func path(_ name: String) -> String { dir + "/" + name }

    func load(_ name: String, overrides: [String] = []) throws -> ResolvedRecipe {
        try TestCatalog.loader.load(file: path(name), overrides: overrides)
    }

    /// The errors loading `name` gives, with this folder made relative.
    func errors(_ name: String, overrides: [String] = []) -> [String] {
        do {
            _ = try load(name, overrides: overrides)
            return []
        } catch let e as RecipeErrors {
            return e.errors.map { $0.description.replacingOccurrences(of: dir + "/", with: "") }
        } catch {
            return ["unexpected error type: \(error)"]
        }
    }
}

/// Loads one recipe from text (no extends).
func loadText(_ yaml: String, overrides: [String] = []) throws -> ResolvedRecipe {
    try TestCatalog.loader.load(yaml: yaml, file: "r.yaml", overrides: overrides)
}

/// The error lines loading `yaml` gives (empty when it loads).
func errorsOf(_ yaml: String, overrides: [String] = []) -> [String] {
    do {
        _ = try loadText(yaml, overrides: overrides)
        return []
    } catch let e as RecipeErrors {
        return e.errors.map(\.description)
    } catch {
        return ["unexpected error type: \(error)"]
    }
}

extension RecipeCell {
    /// The config value at `stage.field`.
    func value(_ stage: String, _ field: String) -> ConfigValue? {
        self.stage(stage)?.config[field]?.value
    }
}
