import ArgumentParser
import Checkpoint
import Foundation
import Preference
import Llama
import Tensor

/// `preflab bench`: the engine's training, DPO-step and generation throughput (release build).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine's throughput on the issue's reference shapes (use a release build).",
        discussion: """
            Shapes: d256 (d_model 256, 4 layers, seq 128, batch 32), d512 (d_model 512, 8 layers) and smollm2 \
            (the real SmolLM2-135M at models/, skipped when absent). benchmarks/compare.py runs this and \
            benchmarks/torch_peer.py back to back and prints the ratios. BENCH_PROFILE=1 adds per-phase times.
            """)

    @Option(help: "Engine threads.")
    var threads: Int = 2

    @Option(help: "Shapes to measure: d256, d512, smollm2.")
    var shape: [String] = ["d256", "d512", "smollm2"]

    @Option(help: "The SmolLM2 GGUF file (scripts/fetch-smollm2.sh puts it there).")
    var smollm2 = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    @Flag(help: "Give the SmolLM2 DPO step's reference a gradient arena, as every model had before frozen models (the memory figure's baseline).")
    var trainableReference = false

    @Flag(help: "Recompute block activations in backward (the trainers' `recompute: true`): less memory, more time.")
    var recompute = false

    @Option(help: ArgumentHelp("Write the loaded SmolLM2 (the same dequantised weights the bench measures) as a Hugging Face folder to this directory, for benchmarks/torch_smollm2_peer.py, and exit.", valueName: "dir"))
    var exportSmollm2: String?

    @Flag(help: "SmolLM2: measure forward and generation only (no training and DPO step).")
    var inferenceOnly = false

    @Flag(help: "Print one JSON line per shape instead of the table.")
    var json = false

    @Option(help: "Number format of the matrix products: fp32 or bf16 (AMX or AVX-512 BF16 where present, else emulated with AVX2).")
    var precision = "fp32"

    func validate() throws {
        guard let p = Precision(rawValue: precision) else { throw ValidationError("unknown precision '\(precision)'; known: fp32, bf16") }
        if p == .bf16, let why = BF16Kernels.unavailableReason { throw ValidationError("--precision bf16: \(why)") }
        for s in shape where Self.shapes[s] == nil && s != "smollm2" {
            throw ValidationError("unknown shape '\(s)'; known: d256, d512, smollm2")
        }
    }

    static let shapes: [String: (config: LlamaConfig, batch: Int, seq: Int)] = [
        "d256": (LlamaConfig(vocabSize: 8192, dModel: 256, nLayers: 4, nHeads: 4, nKVHeads: 4, hidden: 704, maxSeqLen: 128), 32, 128),
        "d512": (LlamaConfig(vocabSize: 8192, dModel: 512, nLayers: 8, nHeads: 8, nKVHeads: 8, hidden: 1408, maxSeqLen: 128), 32, 128),
    ]

    func run() throws {
        Threads.set(threads)
        if let dir = exportSmollm2 { return try exportSmolLM2(to: dir) }
        if !json {
            print("OpenBLAS kernels: \(BLASCore.name); decode kernels: \(DecodeKernels.isa); products: \(precision)"
                  + (precision == "bf16" ? " (\(BF16Kernels.kernel ?? "none") kernel)" : ""))
        }
        if !json && shape.contains(where: { Self.shapes[$0] != nil }) {
            print("shape  train tok/s  MFU    DPO tok/s  generate tok/s  sgemm peak GFLOP/s  peak RSS MiB  activations MiB")
        }
        for name in shape {
            if name == "smollm2" {
                try benchSmolLM2()
                continue
            }
            guard let s = Self.shapes[name] else { continue }
            let r = try EngineBenchmark.run(config: s.config, batch: s.batch, seq: s.seq, precision: Precision(rawValue: precision)!,
                                            recompute: recompute)
            if json {
                printJSON(["shape": name, "precision": precision, "result": r] as [String: any Encodable])
                continue
            }
            print(String(format: "%-5@  %11.0f  %4.0f%%  %9.0f  %14.0f  %18.1f  %12.0f  %15.0f", name as NSString,
                         r.trainTokensPerSec, 100 * r.trainMFU, r.dpoTokensPerSec, r.generateTokensPerSec,
                         r.sgemmPeakGFLOPS, Double(r.peakRSSBytes) / 1048576, Double(r.activationBytes) / 1048576))
            for (phase, secs) in (r.profile ?? [:]).sorted(by: { $0.value > $1.value }) {
                print("       " + phase.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %8.3f s", secs))
            }
        }
    }

    /// SmolLM2-135M: first a training step (4 x 128 tokens) and a DPO step (2 pairs x 128; the frozen model
    /// as reference) with a trainable copy as policy, and their peak RSS; then, the policy dropped and the
    /// peak reset, forward (4 x 128) and batched generation (8 prompts of 32, 32 new) on the frozen model.
    func benchSmolLM2() throws {
        guard FileManager.default.fileExists(atPath: smollm2) else {
            if !json { print("smollm2: \(smollm2) absent (scripts/fetch-smollm2.sh fetches it); skipped") }
            return
        }
        EngineBenchmark.resetPeakRSS()
        let model = try Pretrained.model(try GGUFFile(contentsOf: URL(fileURLWithPath: smollm2)), maxSeqLen: 256)
        try model.usePrecision(Precision(rawValue: precision)!)
        if trainableReference { model.makeTrainable() }  // as every model was before frozen models
        model.recompute = recompute  // a frozen model's only use of it: gradient-free LM-head tiles
        let (train, dpo) = inferenceOnly ? (0, 0) : try smolLM2Training(reference: model)
        let trainRSS = EngineBenchmark.peakRSSBytes()
        EngineBenchmark.resetPeakRSS()
        let forward = EngineBenchmark.forwardRate(model, batch: 4, seq: 128, repeats: 2)
        _ = Profile.takeReport()
        let generate = EngineBenchmark.generation(model, batch: 8, prompt: 32, new: 32, repeats: 2)
        let profile8 = Profile.takeReport()
        let generate1 = EngineBenchmark.generation(model, batch: 1, prompt: 32, new: 32, repeats: 2)
        let profile1 = Profile.takeReport()
        let rss = EngineBenchmark.peakRSSBytes()
        if json {
            printJSON(["shape": "smollm2", "precision": precision, "forwardTokensPerSec": forward, "generateTokensPerSec": generate,
                       "generate1TokensPerSec": generate1, "peakRSSBytes": rss, "trainTokensPerSec": train, "dpoTokensPerSec": dpo, "trainingPeakRSSBytes": trainRSS,
                       "trainableReference": trainableReference, "recompute": recompute] as [String: any Encodable])
        } else {
            print(String(format: "smollm2: training %.0f tok/s (4 x 128), DPO step %.0f tok/s (2 pairs x 128, policy + %@ reference%@), peak RSS %.0f MiB",
                         train, dpo, (trainableReference ? "trainable" : "frozen") as NSString,
                         (recompute ? ", recompute" : "") as NSString, Double(trainRSS) / 1048576))
            print(String(format: "smollm2: forward %.0f tok/s (4 x 128), generation %.1f new tok/s (8 prompts, 32 new), %.1f (1 prompt), peak RSS %.0f MiB",
                         forward, generate, generate1, Double(rss) / 1048576))
            for (label, profile) in [("batch 8", profile8), ("batch 1", profile1)] where !profile.isEmpty {
                print("generation \(label), seconds per phase over its 3 calls:")
                for (phase, secs) in Dictionary(profile, uniquingKeysWith: +).sorted(by: { $0.value > $1.value }) {
                    print("       " + phase.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %8.3f s", secs))
                }
            }
        }
    }

    /// The SmolLM2 GGUF as the bench loads it (Q4_1 dequantised to Float32), with its tokenizer and chat
    /// template, as a Hugging Face folder: the PyTorch peer loads exactly the weights the engine measures.
    func exportSmolLM2(to dir: String) throws {
        let policy = try Pretrained.policy(gguf: URL(fileURLWithPath: smollm2), maxSeqLen: 256)
        guard let codec = policy.codec as? TokenizerCodec else { throw ValidationError("the SmolLM2 policy has no tokenizer codec") }
        let url = URL(fileURLWithPath: dir)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try HFModelFolder.write(model: policy.model, codec: codec, to: url)
        print("wrote \(dir)")
    }

    /// Tokens per second of a training step and of a DPO step, with a trainable copy of `reference` as policy
    /// (released when this returns).
    func smolLM2Training(reference: LlamaModel) throws -> (train: Double, dpo: Double) {
        let policy = reference.copy(trainable: true)
        policy.recompute = recompute
        let batch = EngineBenchmark.randomBatch(vocab: reference.config.vocabSize, rows: 4, seq: 128, seed: 6)
        let trainTime = try EngineBenchmark.trainStepTime(policy, batch: batch, repeats: 2)
        let dpoTime = try EngineBenchmark.dpoStepTime(policy: policy, reference: reference, pairs: batch, repeats: 2)
        return (Double(4 * 128) / trainTime, Double(4 * 128) / dpoTime)
    }

    func printJSON(_ fields: [String: any Encodable]) {
        struct JSONObject: Encodable {
            let fields: [String: any Encodable]
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Key.self)
                for (k, v) in fields { try c.encode(v, forKey: Key(stringValue: k)) }
            }
            struct Key: CodingKey {
                var stringValue: String
                init(stringValue: String) { self.stringValue = stringValue }
                var intValue: Int? { nil }
                init?(intValue: Int) { nil }
            }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        if let data = try? enc.encode(JSONObject(fields: fields)) { print(String(decoding: data, as: UTF8.self)) }
    }
}
