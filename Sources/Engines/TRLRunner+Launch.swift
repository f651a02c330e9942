import Foundation
import Pipeline
import RecipeSpec

/// The TRL runner's launch, as `preflab plan --commands` prints it: the same `Launcher.command` call and
/// environment `run` uses (the process count is the site's; `run` takes it from the prepared job, which the
/// same site wrote).
extension TRLRunner: PlannedLaunch {
    public func launch(hash: String, stage: ResolvedStage, inputs: [String: URL], resumeDirectory dir: URL) throws -> EngineLaunch {
        EngineLaunch(directory: dir.path, environment: Self.environment(dir),
                     command: Launcher.command(site: site, python: site.python(for: "trl"), script: dir.appendingPathComponent(Self.script).path,
                                               job: dir.appendingPathComponent("job.json").path, processes: site.processes(for: stage.kind),
                                               gpus: site.gpus(for: stage.kind), workDirectory: dir.path))
    }
}
