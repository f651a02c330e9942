import Foundation

/// The checkout these tests were built from (this file is Tests/TestSupport/ReferencePython.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The Python that reference checks run (transformers, TensorBoard): `PREFLAB_ENGINES_PYTHON`, else the
/// project's `.venv-engines/bin/python` (scripts/setup-engines.sh, scripts/setup-reference.sh).
public enum ReferencePython {
    /// The interpreter if it exists and imports `modules`; otherwise why not (the caller skips with it).
    public static func lookup(importing modules: String, setup: String) -> Result<String, Missing> {
        let path = ProcessInfo.processInfo.environment["PREFLAB_ENGINES_PYTHON"]
            ?? repositoryRoot.appendingPathComponent(".venv-engines/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(Missing(reason: "no engines Python at \(path) (set PREFLAB_ENGINES_PYTHON or run \(setup))"))
        }
        guard (try? ChildProcess.checked(path, ["-c", "import " + modules])) != nil else {
            return .failure(Missing(reason: "\(path) cannot import \(modules) (run \(setup))"))
        }
        return .success(path)
    }

    public struct Missing: Error {
        public let reason: String
    }
}
