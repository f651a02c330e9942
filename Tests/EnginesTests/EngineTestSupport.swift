import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// Paths and helpers shared by the engine tests.
enum EngineTestSupport {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let golden = here.appendingPathComponent("Golden")
    static let fixtures = here.appendingPathComponent("Fixtures")
    static let repo = here.deletingLastPathComponent().deletingLastPathComponent()

    /// The engines venv's interpreter, or nil (tests that need it are skipped with the reason printed).
    static var python: String? {
        let path = repo.appendingPathComponent(".venv-engines/bin/python").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Compares `text` with Golden/`name`; `PREFLAB_UPDATE_GOLDEN=1` rewrites the file after an intended change.
    static func checkGolden(_ name: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["PREFLAB_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(text, try String(contentsOf: url, encoding: .utf8), "\(name) changed", file: file, line: line)
    }

    /// The first cell of a checked-in recipe, resolved.
    static func recipe(_ relative: String, overrides: [String] = []) throws -> ResolvedRecipe {
        try RecipeLoader(catalog: StageSpecs.catalog).load(file: repo.appendingPathComponent(relative).path, overrides: overrides)
    }

    /// The graph of a recipe given as text, written to `dir`/recipe.yaml (errors name its lines).
    static func graph(_ text: String, in dir: URL) throws -> PipelineGraph {
        let file = dir.appendingPathComponent("recipe.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try StageSpecs.graph(try RecipeLoader(catalog: StageSpecs.catalog).load(file: file.path))
    }

    static func stage(_ recipe: ResolvedRecipe, _ name: String) throws -> ResolvedStage {
        try XCTUnwrap(recipe.cells.compactMap { $0.stage(name) }.first, "no stage \(name)")
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("engines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `python ARGS` offline (a helper step of a test: making a model, a bridge script's function); fails the
    /// test with its error output when it fails.
    static func runPython(_ python: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let p = Process(), errors = Pipe()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        p.environment = ["HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin", "TRANSFORMERS_VERBOSITY": "error"]
        p.standardError = errors
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "python \(arguments.prefix(1)) failed: \(text.suffix(2000))", file: file, line: line)
    }

    /// A thread that SIGKILLs the engine job of `resume` (its engine.pid) once `checkpoint` exists there (5 min at most).
    static func killer(at checkpoint: String, resume: URL) -> Thread {
        Thread {
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline {
                let ckpts = (try? FileManager.default.contentsOfDirectory(atPath: resume.appendingPathComponent("checkpoints").path)) ?? []
                if ckpts.contains(checkpoint),
                   let pid = try? String(contentsOf: resume.appendingPathComponent("engine.pid"), encoding: .utf8) {
                    kill(pid_t(pid.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, SIGKILL)
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }
}
