import ArgumentParser
import Foundation
import Llama
import Tensor

/// `preflab bench`: the engine's training, DPO-step and generation throughput (release build).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine's throughput on the issue's reference shapes (use a release build).",
        discussion: "Shapes: d256 (d_model 256, 4 layers, seq 128, batch 32) and d512 (d_model 512, 8 layers). benchmarks/torch_peer.py measures PyTorch on the same shapes; benchmarks/README.md has both.")

    @Option(help: "Engine threads.")
    var threads: Int = 2

    @Option(help: "Shapes to measure: d256, d512.")
    var shape: [String] = ["d256", "d512"]

    func validate() throws {
        for s in shape where Self.shapes[s] == nil {
            throw ValidationError("unknown shape '\(s)'; known: \(Self.shapes.keys.sorted().joined(separator: ", "))")
        }
    }

    static let shapes: [String: (config: LlamaConfig, batch: Int, seq: Int)] = [
        "d256": (LlamaConfig(vocabSize: 8192, dModel: 256, nLayers: 4, nHeads: 4, nKVHeads: 4, hidden: 704, maxSeqLen: 128), 32, 128),
        "d512": (LlamaConfig(vocabSize: 8192, dModel: 512, nLayers: 8, nHeads: 8, nKVHeads: 8, hidden: 1408, maxSeqLen: 128), 32, 128),
    ]

    func run() throws {
        Threads.set(threads)
        print("shape  train tok/s  MFU    DPO tok/s  generate tok/s  sgemm peak GFLOP/s")
        for name in shape {
            guard let s = Self.shapes[name] else { continue }
            let r = EngineBenchmark.run(config: s.config, batch: s.batch, seq: s.seq)
            print(String(format: "%-5@  %11.0f  %4.0f%%  %9.0f  %14.0f  %18.1f", name as NSString, r.trainTokensPerSec,
                         100 * r.trainMFU, r.dpoTokensPerSec, r.generateTokensPerSec, r.sgemmPeakGFLOPS))
        }
    }
}
