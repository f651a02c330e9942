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
