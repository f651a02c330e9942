// Runs EngineBenchmark and prints one JSON line. Usage:
//   swift run -c release EngineBench [threads] [batch] [seq] [vocab] [dModel] [layers] [heads] [kvHeads] [hidden]
import Foundation
import Llama
import Tensor

BLASCore.reexecWithPinnedCoreIfNeeded()
let a = CommandLine.arguments.dropFirst().compactMap { Int($0) }
func arg(_ i: Int, _ d: Int) -> Int { i < a.count ? a[i] : d }
Threads.set(arg(0, 2))
EngineBenchmark.useCPUClock = ProcessInfo.processInfo.environment["BENCH_CPU_CLOCK"] == "1"
let config = LlamaConfig(vocabSize: arg(3, 8192), dModel: arg(4, 512), nLayers: arg(5, 8), nHeads: arg(6, 8),
                         nKVHeads: arg(7, 8), hidden: arg(8, 1408), maxSeqLen: max(arg(2, 256), 128))
if ProcessInfo.processInfo.environment["BENCH_KERNELS"] == "1" {
    // Decode products: the packed-panel kernel against sgemm, interleaved so machine drift hits both.
    // Weights are reused call after call, so they sit in cache (a decoding step reads them from memory).
    for (rows, inC, outC) in [(32, 512, 1536), (32, 512, 2816), (32, 1408, 512), (32, 512, 8192), (8, 512, 1536),
                              (1, 512, 1536), (64, 512, 1536), (1024, 512, 1536), (1024, 1408, 512), (4096, 512, 1536), (4096, 1408, 512)] {
        var best = (packed: Double.infinity, blas: Double.infinity)
        let a = allocateAligned(rows * inC), w = allocateAligned(outC * inC)  // as the engine's arenas
        let o1 = allocateAligned(rows * outC), o2 = allocateAligned(rows * outC)
        defer { a.deallocate(); w.deallocate(); o1.deallocate(); o2.deallocate() }
        for i in 0..<(rows * inC) { a[i] = Float.random(in: -1...1) }
        for i in 0..<(outC * inC) { w[i] = Float.random(in: -1...1) }
        let packed = PackedMatrix(rows: outC, inC: inC)
        packed.pack([(UnsafePointer(w), outC)])
        let reps = max(1, 20 * 32 / rows)
        func time(_ body: () -> Void) -> Double {
            let t0 = Date()
            for _ in 0..<reps { body() }
            return Date().timeIntervalSince(t0) / Double(reps)
        }
        for _ in 0..<20 {
            best.packed = min(best.packed, time { packed.multiply(o1, a, n: rows) })
            best.blas = min(best.blas, time { matmulForward(o2, a, w, n: rows, inC: inC, outC: outC) })
        }
        let flop = 2.0 * Double(rows * inC * outC) / 1e9
        let err = (0..<(rows * outC)).map { abs(o1[$0] - o2[$0]) }.max()!
        print("(\(rows), \(inC), \(outC)) \(DecodeKernels.isa): packed \(Int(flop / best.packed)) GFLOP/s, "
              + "sgemm \(Int(flop / best.blas)); max |diff| \(err)")
    }
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_GENERATE_ONLY"] == "1" {
    let model = LlamaModel(config: config, head: .lm, seed: 1)
    print(#"{"generateTokensPerSec":\#(EngineBenchmark.generation(model, batch: arg(1, 8), prompt: 32, new: 64))}"#)
    for (phase, secs) in Profile.takeReport() { print(phase, secs) }
    exit(0)
}
let result = try EngineBenchmark.run(config: config, batch: arg(1, 8), seq: arg(2, 256))
let enc = JSONEncoder()
enc.outputFormatting = [.sortedKeys]
print(String(decoding: try enc.encode(result), as: UTF8.self))
