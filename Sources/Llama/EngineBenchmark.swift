import COpenBLAS
import Foundation
import Tensor
import Randomness

/// Throughput of the engine on one model shape, for `preflab bench` and benchmarks/README.md.
public struct EngineBenchmarkResult: Codable, Sendable {
    /// Model shape measured.
    public var config: LlamaConfig
    /// Sequences per training batch (the DPO step uses this many pairs).
    public var batch: Int
    /// Tokens per sequence.
    public var seq: Int
    /// Engine threads (`Threads.count`).
    public var threads: Int
    /// OpenBLAS kernel set in use (BLASCore.name).
    public var blasCore: String
    /// Instruction set of the engine's decode kernels (DecodeKernels.isa).
    public var decodeISA: String
    /// Best sgemm rate measured on this machine (1024 x 1024 x 1024), in GFLOP/s.
    public var sgemmPeakGFLOPS: Double
    /// Training (LM forward + backward) tokens per second.
    public var trainTokensPerSec: Double
    /// Training model FLOP rate, GFLOP/s.
    public var trainGFLOPS: Double
    /// trainGFLOPS / sgemmPeakGFLOPS.
    public var trainMFU: Double
    /// DPO step tokens per second: policy forward + backward on chosen and rejected, reference forward.
    public var dpoTokensPerSec: Double
    /// New tokens per second of batched greedy generation with the KV cache.
    public var generateTokensPerSec: Double
    /// Peak resident memory of the process while this shape ran (Linux VmHWM, reset first), bytes.
    public var peakRSSBytes: Int
    /// Bytes of the activation arenas (training + gradient-free) after the runs.
    public var activationBytes: Int
    /// Bytes of parameter values + gradients.
    public var parameterBytes: Int
    /// Seconds per phase over all timed and warm-up runs, with BENCH_PROFILE=1; else nil.
    public var profile: [String: Double]?
}

/// Times the engine's training step, DPO step and generation on random weights and tokens.
public enum EngineBenchmark {
    /// Runs each measurement `repeats` times after one warm-up and keeps the fastest; the models' products
    /// in `precision` (bf16 only where `BF16Kernels.available`).
    public static func run(config: LlamaConfig, batch: Int, seq: Int, repeats: Int = 3,
                           generatePrompt: Int = 32, generateNew: Int = 64, precision: Precision = .fp32) -> EngineBenchmarkResult {
        resetPeakRSS()
        let peakBefore = sgemmPeakGFLOPS()
        _ = Profile.takeReport()
        let policy = LlamaModel(config: config, head: .lm, seed: 1)
        do { try policy.usePrecision(precision) } catch { preconditionFailure("\(error)") }
        let reference = policy.copy()
        var rng = SeededRandom(seed: 2)
        func sequences(_ n: Int, _ len: Int) -> [[Int32]] {
            (0..<n).map { _ in (0..<len).map { _ in Int32(rng.nextInt(config.vocabSize)) } }
        }
        let train = TokenBatch(sequences: sequences(batch, seq), pad: 0)
        let pairs = TokenBatch(sequences: sequences(2 * batch, seq), pad: 0)
        let dTrain = [Float](repeating: -1 / Float(batch * seq), count: batch * seq)
        let dPairs = [Float](repeating: 0.01, count: 2 * batch * seq)
        let trainTime = fastest(repeats) {
            policy.zeroGradients()
            _ = policy.tokenLogProbs(train, keepActivations: true)
            policy.backwardTokenLogProbs(dTrain)
        }
        let dpoTime = fastest(repeats) {
            policy.zeroGradients()
            _ = reference.tokenLogProbs(pairs, keepActivations: false)
            _ = policy.tokenLogProbs(pairs, keepActivations: true)
            policy.backwardTokenLogProbs(dPairs)
        }
        let genRate = generation(policy, batch: batch, prompt: generatePrompt, new: generateNew, repeats: repeats)
        let profile = Profile.enabled ? Dictionary(Profile.takeReport(), uniquingKeysWith: +) : nil
        let rss = peakRSSBytes()
        // The larger of two peaks (before and after the model runs): MFU errs low, never above 100 %.
        let peak = max(peakBefore, sgemmPeakGFLOPS())
        let trainTokens = Double(batch * seq)
        let trainGF = trainFlopsPerToken(config, seq: seq) * trainTokens / trainTime / 1e9
        return EngineBenchmarkResult(config: config, batch: batch, seq: seq, threads: Threads.count, blasCore: BLASCore.name,
                                     decodeISA: DecodeKernels.isa,
                                     sgemmPeakGFLOPS: peak, trainTokensPerSec: trainTokens / trainTime,
                                     trainGFLOPS: trainGF, trainMFU: trainGF / peak,
                                     dpoTokensPerSec: Double(2 * batch * seq) / dpoTime,
                                     generateTokensPerSec: genRate, peakRSSBytes: rss,
                                     activationBytes: policy.activationBytes + reference.activationBytes,
                                     parameterBytes: 2 * 4 * policy.parameters.reduce(0) { $0 + $1.count },
                                     profile: profile)
    }

    /// New tokens per second of greedy batched generation: `batch` random prompts of `prompt` tokens.
    public static func generation(_ model: LlamaModel, batch: Int, prompt: Int, new: Int, repeats: Int = 3) -> Double {
        var rng = SeededRandom(seed: 4)
        let len = max(1, min(prompt, model.config.maxSeqLen - new))
        let prompts = (0..<batch).map { _ in (0..<len).map { _ in Int32(rng.nextInt(model.config.vocabSize)) } }
        var produced = 0
        let time = fastest(repeats) {
            var g = SeededRandom(seed: 3)
            let out = model.generate(prompts: prompts, maxNewTokens: new, temperature: 0, topP: 1, eos: -1, rng: &g)
            produced = out.reduce(0) { $0 + $1.count }
        }
        return Double(produced) / time
    }

    /// Tokens per second of a gradient-free LM forward (log-probabilities) of `batch` random sequences.
    public static func forwardRate(_ model: LlamaModel, batch: Int, seq: Int, repeats: Int = 3) -> Double {
        var rng = SeededRandom(seed: 5)
        let len = min(seq, model.config.maxSeqLen)
        let seqs = (0..<batch).map { _ in (0..<len).map { _ in Int32(rng.nextInt(model.config.vocabSize)) } }
        let tokens = TokenBatch(sequences: seqs, pad: 0)
        return Double(batch * len) / fastest(repeats) { _ = model.tokenLogProbs(tokens, keepActivations: false) }
    }

    /// Forward + backward FLOPs per token: 6 per matmul weight plus causal attention (mean (T+1)/2 keys).
    public static func trainFlopsPerToken(_ c: LlamaConfig, seq: Int) -> Double {
        let perLayer = 2 * c.dModel * c.dModel + 2 * c.dModel * c.kvDim + 3 * c.dModel * c.hidden
        let matmulWeights = Double(c.nLayers * perLayer + c.vocabSize * c.dModel)
        let attention = 12 * Double(c.nLayers * c.dModel) * Double(seq + 1) / 2
        return 6 * matmulWeights + attention
    }

    /// Best of `repeats` 1024^3 sgemm runs, GFLOP/s, at the current thread count, after at least
    /// `warmup` seconds of the same product (one warm-up run read as low as 2/3 of the peak: clocks
    /// and OpenBLAS threads take time to spin up). Always wall-clock timed.
    public static func sgemmPeakGFLOPS(size n: Int = 1024, repeats: Int = 10, warmup: Double = 0.5) -> Double {
        var a = [Float](repeating: 0.5, count: n * n), b = a, c = a
        func product() {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        &a, Int32(n), &b, Int32(n), 0, &c, Int32(n))
        }
        let start = wallNow()
        while wallNow() - start < warmup { product() }
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let t0 = wallNow()
            product()
            best = min(best, wallNow() - t0)
        }
        return 2 * Double(n * n * n) / best / 1e9
    }

    /// Resets the kernel's peak-RSS mark of this process (Linux; no-op elsewhere).
    public static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Peak resident set size since the last reset (VmHWM), bytes; 0 where unavailable.
    public static func peakRSSBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return (Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0) * 1024
    }

    static func wallNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Which clock times the runs: wall time, or process CPU time divided by `Threads.count`
    /// (steadier on a machine shared with other jobs; spinning BLAS threads count as busy).
    nonisolated(unsafe) public static var useCPUClock = false

    /// Seconds of the fastest of `repeats` timed runs after one warm-up.
    static func fastest(_ repeats: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = now()
            body()
            best = min(best, now() - start)
        }
        return best
    }

    static func now() -> Double {
        if useCPUClock {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return (Double(t.tv_sec) + Double(t.tv_nsec) / 1e9) / Double(Threads.count)
        }
        return wallNow()
    }
}
