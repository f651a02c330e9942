import Foundation
import RecipeSpec

/// Engines with no CPU path (OpenRLHF, vLLM): where their GPUs come from, checked before anything is written.
public enum GPUPlacement {
    /// A launch that would start on this machine (launcher local or torchrun) needs a CUDA GPU here.
    static func requireLocalGPU(engine: String, site: SiteConfig, stage: ResolvedStage, machineHasGPU: Bool) throws {
        if (site.launcher == .local || site.launcher == .torchrun) && !machineHasGPU {
            throw EngineError(stage, key: "engine", "\(engine) needs a CUDA GPU and this machine has none (no /proc/driver/nvidia/gpus): run it where the site file's launcher reaches GPUs (--site with launcher ray or sbatch), or use engine: embedded")
        }
    }

    /// The GPUs the site gives the node's kind (at least one).
    static func siteGPUs(engine: String, site: SiteConfig, stage: ResolvedStage) throws -> Int {
        let gpus = site.gpus(for: stage.kind)
        guard gpus >= 1 else {
            throw EngineError(stage, key: "engine", "\(engine) needs at least one GPU and the site file gives \(stage.kind) none: set site.gpus.\(stage.kind) (or site.gpus.default)" + (site.file.map { " in \($0)" } ?? " in a site file passed with --site"))
        }
        return gpus
    }

    /// Whether the NVIDIA driver lists a GPU on this machine.
    public static func machineHasGPU() -> Bool {
        !((try? FileManager.default.contentsOfDirectory(atPath: "/proc/driver/nvidia/gpus")) ?? []).isEmpty
    }
}
