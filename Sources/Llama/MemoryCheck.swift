import Foundation

/// A forward that would need more memory than the machine has, refused before anything is allocated.
///
/// Without this check the arena's allocation of an oversized batch either trapped or woke the kernel's
/// OOM killer, taking the whole `preflab run` down (real Table 1's first DPO run asked for 35.6 GB at
/// step 4): thrown from the node, it fails that node only and its dependents are skipped.
public struct ActivationMemoryError: Error, CustomStringConvertible, Equatable {
    public var batch: Int
    public var seqLen: Int
    public var training: Bool
    /// Bytes the forward's activations need (the arena's own layout, logits chunk included).
    public var neededBytes: Int
    /// Bytes the machine could give (MemAvailable, or the cgroup's headroom if smaller), plus the arena already held.
    public var availableBytes: Int
    public var layers: Int
    public var heads: Int

    public var description: String {
        let gb = { (b: Int) in String(format: "%.1f GB", Double(b) / 1e9) }
        let kept = training ? "a training forward keeps all \(layers) layers' activations, among them (\(batch), \(heads), \(seqLen), \(seqLen)) "
            + "attention probabilities per layer, for the backward pass" : "an inference forward of one layer at a time"
        return "out of memory before allocating: a batch of \(batch) sequences × \(seqLen) tokens needs \(gb(neededBytes)) of activations "
            + "(\(kept)) but the machine has \(gb(availableBytes)) available. Lower the stage's `micro_batch` (sequences per forward; "
            + "DPO and reward models put 2 per pair), or the sequence length: the model stage's `max_seq_len`, or a shorter "
            + "length cut of the data (memory grows with batch × length² here)"
    }
}

/// How much memory this process may still take: MemAvailable of /proc/meminfo, bounded by the cgroup's
/// limit minus its usage where one is set (v2 `memory.max`, v1 `memory.limit_in_bytes`), and by
/// `PREFLAB_MEMORY_LIMIT` (bytes, or with a K/M/G suffix: "8G") where set — a cap for one run on a shared
/// machine. nil where none can be read (not Linux, no cap): the check is then skipped, not guessed.
public enum SystemMemory {
    public static let limitVariable = "PREFLAB_MEMORY_LIMIT"

    /// A `PREFLAB_MEMORY_LIMIT` that is not a size.
    public struct LimitError: Error, CustomStringConvertible { public var description: String }

    /// Throws when `PREFLAB_MEMORY_LIMIT` is set to something that is not a size (rather than ignoring it).
    public static func checkLimitVariable() throws {
        if let raw = ProcessInfo.processInfo.environment[limitVariable], parseBytes(raw) == nil {
            throw LimitError(description: "\(limitVariable)='\(raw)': expected a number of bytes, optionally with a K, M or G "
                + "suffix (e.g. 8G)")
        }
    }

    public static func availableBytes() -> Int? {
        var best: Int? = meminfoAvailable()
        if let raw = ProcessInfo.processInfo.environment[limitVariable], let cap = parseBytes(raw) { best = min(best ?? .max, cap) }
        for (limit, usage) in [("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                               ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")] {
            guard let l = number(limit), let u = number(usage), l < 1 << 60 else { continue }
            best = min(best ?? .max, max(0, l - u))
        }
        return best
    }

    /// "123", "64K", "512M", "8G" (powers of 1024); nil for anything else.
    static func parseBytes(_ raw: String) -> Int? {
        let text = raw.trimmingCharacters(in: .whitespaces).uppercased()
        let scale = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(text.suffix(1))]
        guard let n = Double(scale == nil ? text : String(text.dropLast())), n >= 0 else { return nil }
        return Int(n * Double(scale ?? 1))
    }

    static func number(_ path: String) -> Int? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    static func meminfoAvailable() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }
}

extension LlamaModel {
    /// Bytes a forward of `batch` rows × `seqLen` tokens allocates for activations (all layers when
    /// `training`, their inputs only under `recompute`), computed from the arena's layout before anything is allocated.
    public func activationBytes(batch: Int, seqLen: Int, training: Bool) -> Int {
        let probe = Activations(config: config, keeping: activationKeeping(training: training))
        return probe.floatsNeeded(b: batch, t: seqLen, lmHead: head == .lm,
                                  head: headPlan(b: batch, t: seqLen, keep: training)) * MemoryLayout<Float>.stride
    }

    /// What a forward keeps: every block (or, under `recompute`, every block's input) when `training`.
    func activationKeeping(training: Bool) -> ActivationKeeping {
        training ? (recompute ? .recompute : .full) : .inference
    }

    /// Throws `ActivationMemoryError` when such a forward needs more than `available` (default: what the
    /// machine has now) plus the arena this model already holds for it, which the forward would reuse.
    public func checkActivationMemory(batch: Int, seqLen: Int, training: Bool,
                                      available: Int? = SystemMemory.availableBytes()) throws {
        try SystemMemory.checkLimitVariable()
        guard let available else { return }
        let need = activationBytes(batch: batch, seqLen: seqLen, training: training)
        let held = (training ? trainActs : inferActs)?.bytes ?? 0
        guard need > available + held else { return }
        throw ActivationMemoryError(batch: batch, seqLen: seqLen, training: training, neededBytes: need,
                                    availableBytes: available + held, layers: config.nLayers, heads: config.nHeads)
    }
}

/// A sampling call whose KV cache, prefill and decode buffers would need more memory than the machine has.
///
/// The KV cache's pages are only touched as positions fill, so an oversized cache was not refused when
/// allocated but killed the process part-way through decoding (SmolLM2: 30 layers × 64 sequences × 2,048
/// positions × 192 floats × 2 is 6 GB); thrown before the call, it fails the node only.
public struct GenerationMemoryError: Error, CustomStringConvertible, Equatable {
    public var batch: Int
    public var positions: Int
    public var neededBytes: Int
    public var availableBytes: Int

    public var description: String {
        let gb = { (b: Int) in String(format: "%.1f GB", Double(b) / 1e9) }
        return "out of memory before sampling: \(batch) sequences of up to \(positions) positions (prompt + new tokens) need "
            + "\(gb(neededBytes)) (the KV cache of every layer, the prompts' forward and the decode buffers) but the machine "
            + "has \(gb(availableBytes)) available. Lower the stage's `max_new_tokens`, the prompts' length, or the number "
            + "of sequences sampled at once"
    }
}

extension LlamaModel {
    /// Bytes a `generate` call over `batch` prompts of at most `promptLength` tokens, decoding to `length`
    /// positions, allocates: the KV cache, the prefill's inference activations, one step's buffers, and the
    /// weights' decode panels when not yet packed.
    public func generationBytes(batch: Int, promptLength: Int, length: Int) -> Int {
        let cache = 2 * KVCache.floats(config: config, batch: batch, length: length)
        let scratch = DecodeScratch.bufferSizes(config: config, n: batch).reduce(0, +)
        let panels = decodePanels?.precision == precision ? 0 : DecodeWeights.floats(config: config, precision: precision)
        return (cache + scratch + panels) * MemoryLayout<Float>.stride
            + activationBytes(batch: batch, seqLen: promptLength, training: false)
    }

    /// Throws `GenerationMemoryError` when `generate(prompts:maxNewTokens:…)` would need more than
    /// `available` plus the KV cache it would reuse.
    public func checkGenerationMemory(prompts: [[Int32]], maxNewTokens: Int,
                                      available: Int? = SystemMemory.availableBytes()) throws {
        try SystemMemory.checkLimitVariable()
        guard let available, let longest = prompts.map(\.count).max(), maxNewTokens > 0 else { return }
        let length = cacheLength(longestPrompt: longest, maxNewTokens: maxNewTokens)
        let need = generationBytes(batch: prompts.count, promptLength: longest, length: length)
        let reused = reusableCache(batch: prompts.count, length: length).map {
            2 * KVCache.floats(config: config, batch: $0.batch, length: $0.maxLen) * MemoryLayout<Float>.stride } ?? 0
        let held = reused + (inferActs?.bytes ?? 0)
        guard need > available + held else { return }
        throw GenerationMemoryError(batch: prompts.count, positions: length, neededBytes: need, availableBytes: available + held)
    }
}
