// Runs EngineBenchmark and prints one JSON line. Usage:
//   swift run -c release EngineBench [threads] [batch] [seq] [vocab] [dModel] [layers] [heads] [kvHeads] [hidden]
import Foundation
import Llama
import Tensor

BLASCore.reexecWithBetterCoreIfNeeded()
let a = CommandLine.arguments.dropFirst().compactMap { Int($0) }
func arg(_ i: Int, _ d: Int) -> Int { i < a.count ? a[i] : d }
Threads.set(arg(0, 2))
EngineBenchmark.useCPUClock = ProcessInfo.processInfo.environment["BENCH_CPU_CLOCK"] == "1"
let config = LlamaConfig(vocabSize: arg(3, 8192), dModel: arg(4, 512), nLayers: arg(5, 8), nHeads: arg(6, 8),
                         nKVHeads: arg(7, 8), hidden: arg(8, 1408), maxSeqLen: max(arg(2, 256), 128))
if ProcessInfo.processInfo.environment["BENCH_KERNELS"] == "1" {
    // Few-row products: the engine's kernel against sgemm, interleaved so machine drift hits both.
    for (rows, inC, outC) in [(32, 512, 1536), (32, 512, 1408), (32, 1408, 512), (32, 512, 8192), (8, 512, 1536),
                              (1, 512, 1536), (64, 512, 1536)] {
        var best = (own: Double.infinity, blas: Double.infinity)
        let a = allocateAligned(rows * inC), w = allocateAligned(outC * inC)  // as the engine's arenas
        let o1 = allocateAligned(rows * outC), o2 = allocateAligned(rows * outC)
        defer { a.deallocate(); w.deallocate(); o1.deallocate(); o2.deallocate() }
        for i in 0..<(rows * inC) { a[i] = Float.random(in: -1...1) }
        for i in 0..<(outC * inC) { w[i] = Float.random(in: -1...1) }
        for _ in 0..<20 {
            let t0 = Date()
            for _ in 0..<20 { matmulFewRows(o1, a, w, n: rows, inC: inC, outC: outC) }
            let t1 = Date()
            for _ in 0..<20 { matmulForward(o2, a, w, n: rows, inC: inC, outC: outC) }
            let t2 = Date()
            best = (min(best.own, t1.timeIntervalSince(t0) / 20), min(best.blas, t2.timeIntervalSince(t1) / 20))
        }
        let flop = 2.0 * Double(rows * inC * outC) / 1e9
        let err = (0..<(rows * outC)).map { abs(o1[$0] - o2[$0]) }.max()!
        print("(\(rows), \(inC), \(outC)) \(DecodeKernels.isa): \(Int(flop / best.own)) GFLOP/s, sgemm \(Int(flop / best.blas)); max |diff| \(err)")
    }
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_GENERATE_ONLY"] == "1" {
    let model = LlamaModel(config: config, head: .lm, seed: 1)
    print(#"{"generateTokensPerSec":\#(EngineBenchmark.generation(model, batch: arg(1, 8), prompt: 32, new: 64))}"#)
    for (phase, secs) in Profile.takeReport() { print(phase, secs) }
    exit(0)
}
let result = EngineBenchmark.run(config: config, batch: arg(1, 8), seq: arg(2, 256))
let enc = JSONEncoder()
enc.outputFormatting = [.sortedKeys]
print(String(decoding: try enc.encode(result), as: UTF8.self))
