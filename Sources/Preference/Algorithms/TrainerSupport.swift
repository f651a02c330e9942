import Foundation
import Llama
import Optim
import Tensor
import Randomness

/// Receives progress as values: (step done, total steps, named values such as loss, reward, kl, accuracy,
/// gold_used, tokens_per_s).
public typealias TrainingReporter = (_ step: Int, _ total: Int, _ values: [String: Double]) -> Void

/// What every trainer is told besides its data: where to report, where to checkpoint, when to stop.
public struct TrainingControl {
    /// Called after every optimisation step.
    public var reporter: TrainingReporter
    /// Directory for resumable checkpoints; nil trains without checkpoints.
    public var resumeDirectory: URL?
    /// Checkpoint every this many steps (and always at the end); 0 checkpoints only at the end.
    public var checkpointEvery: Int
    /// Asked after each step with the number of steps done; true stops at once, without a checkpoint,
    /// as an interruption would (the next call resumes from the last checkpoint).
    public var shouldStop: (Int) -> Bool
    /// Receives log lines (such as "resumed from step N").
    public var log: (String) -> Void
    /// Activation recomputation in every model the trainer optimises (`LlamaModel.recompute`): less memory,
    /// bit-identical gradients.
    public var recompute: Bool
    /// Every point reported so far, saved with each checkpoint and replayed on resume, so a resumed
    /// run's curves are as complete as an uninterrupted one's.
    let history = MetricsHistory()

    public init(reporter: @escaping TrainingReporter = { _, _, _ in }, resumeDirectory: URL? = nil,
                checkpointEvery: Int = 50, shouldStop: @escaping (Int) -> Bool = { _ in false },
                log: @escaping (String) -> Void = { _ in }, recompute: Bool = false) {
        self.reporter = reporter
        self.recompute = recompute
        self.resumeDirectory = resumeDirectory
        self.checkpointEvery = checkpointEvery
        self.shouldStop = shouldStop
        self.log = log
    }

    /// Reports a step: keeps it in the history, passes it on, and throws `diverged` when a value is
    /// NaN or infinite (training on would only spread it; the node must fail, not commit NaNs).
    func report(_ step: Int, _ total: Int, _ values: [String: Double], trainer: String) throws {
        history.append(MetricsHistory.Row(step: step, total: total, values: values))
        reporter(step, total, values)
        if let bad = values.keys.sorted().first(where: { !(values[$0] ?? 0).isFinite }) {
            throw TrainingError.diverged(trainer: trainer, step: step, metric: bad, value: values[bad] ?? .nan)
        }
    }
}

/// The points a trainer reported, in order (a class so that copies of a `TrainingControl` share it).
final class MetricsHistory {
    struct Row: Codable { var step: Int; var total: Int; var values: [String: Double] }
    private(set) var rows: [Row] = []

    func append(_ row: Row) { rows.append(row) }
    func replace(with rows: [Row]) { self.rows = rows }
    /// The values of the last point (what a trainer's summary starts from when it resumes at its end).
    var lastValues: [String: Double] { rows.last?.values ?? [:] }
}

/// How a training call ended.
public struct TrainingOutcome: Sendable {
    /// Optimisation steps done, counting those restored from a checkpoint.
    public var stepsDone: Int
    /// Steps the run was planned for.
    public var totalSteps: Int
    /// False when `shouldStop` interrupted the run.
    public var completed: Bool
    /// The step restored from the resume directory, if any.
    public var resumedFromStep: Int?
    /// Values of the last step (as reported).
    public var lastValues: [String: Double]
    /// Gold preferences spent (online methods; 0 otherwise).
    public var goldUsed: Int
}

/// Errors from trainers on bad input.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case emptyDataset(trainer: String)
    case invalidParameter(trainer: String, name: String, value: String, expected: String)
    case checkpointMismatch(String)
    /// A reported value became NaN or infinite at `step`.
    case diverged(trainer: String, step: Int, metric: String, value: Double)

    public var description: String {
        switch self {
        case let .diverged(t, step, metric, value):
            return "diverged: \(metric) = \(value) at step \(step) (\(t)); the node is not committed "
                + "(lower the learning rate or check the inputs)"
        case .emptyDataset(let t): return "\(t): the training set is empty"
        case let .invalidParameter(t, n, v, e): return "\(t): parameter \(n) = \(v) is invalid; expected \(e)"
        case .checkpointMismatch(let m): return "resume checkpoint does not match this run: \(m)"
        }
    }
}

/// Small helpers shared by the trainers (data order, checks, optimiser steps).
enum TrainerKit {
    /// A permutation of 0..<count for `epoch`, derived from `seed` alone so a resumed run sees the same order.
    static func epochOrder(count: Int, epoch: Int, seed: UInt64) -> [Int] {
        var rng = SeededRandom(seed: seed).derived("epoch-\(epoch)")
        return Array(0..<count).shuffled(using: &rng)
    }

    /// Indices of the `size` items of `step` when items are consumed in order, `count` per epoch, reshuffled each epoch.
    static func cyclicBatch(step: Int, size: Int, count: Int, seed: UInt64) -> [Int] {
        var out: [Int] = []
        var order: [Int] = []
        var orderEpoch = -1
        for i in (step * size)..<(step * size + size) {
            if i / count != orderEpoch {
                orderEpoch = i / count
                order = epochOrder(count: count, epoch: orderEpoch, seed: seed)
            }
            out.append(order[i % count])
        }
        return out
    }

    /// The random stream of one step, derived from `seed` alone (so resume needs no generator state).
    static func stepRandom(seed: UInt64, step: Int, _ label: String) -> SeededRandom {
        SeededRandom(seed: seed).derived("\(label)-\(step)")
    }

    /// Largest integer parameter accepted: far beyond any real run, small enough that a product of two
    /// parameters cannot overflow (a recipe's `epochs: 9223372036854775807` once crashed the process).
    static let maxInteger = 1_000_000_000
    /// Most optimisation steps one run may plan.
    static let maxSteps = 100_000_000

    /// Throws unless every integer field of `parameters` (nested structs and optionals included) is at most
    /// `maxInteger` in size and every floating-point field is finite.
    static func requireSane(_ parameters: Any, _ trainer: String, path: String = "") throws {
        for child in Mirror(reflecting: parameters).children {
            guard let label = child.label else { continue }
            try requireSaneValue(child.value, trainer, name: path.isEmpty ? label : path + "." + label)
        }
    }

    private static func requireSaneValue(_ value: Any, _ trainer: String, name: String) throws {
        switch value {
        case let v as Int:
            try require(v.magnitude <= UInt(maxInteger), trainer, name, v, "an integer of at most \(maxInteger) in size")
        case let v as Double:
            try require(v.isFinite, trainer, name, v, "a finite number")
        case let v as Float:
            try require(v.isFinite, trainer, name, v, "a finite number")
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional, let wrapped = mirror.children.first?.value {
                try requireSaneValue(wrapped, trainer, name: name)
            } else if mirror.displayStyle == .struct {
                try requireSane(value, trainer, path: name)
            }
        }
    }

    /// `a × b` steps, refused when it overflows or exceeds `maxSteps`.
    static func steps(_ a: Int, times b: Int, _ trainer: String) throws -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        try require(!overflow && product <= maxSteps, trainer, "total steps", overflow ? "overflow" : "\(product)",
                    "at most \(maxSteps) optimisation steps (lower epochs or raise the batch size)")
        return product
    }

    /// Throws unless `value` satisfies `ok`.
    static func require(_ ok: Bool, _ trainer: String, _ name: String, _ value: Any, _ expected: String) throws {
        if !ok { throw TrainingError.invalidParameter(trainer: trainer, name: name, value: "\(value)", expected: expected) }
    }

    /// Clips the global gradient norm (if `maxNorm` > 0), steps, and clears gradients; returns the pre-clip norm.
    @discardableResult
    static func optimiserStep(_ model: LlamaModel, _ opt: AdamW, lr: Float, maxNorm: Float) -> Float {
        let norm = maxNorm > 0 ? clipGradNorm(trainable(model), maxNorm: maxNorm) : 0
        opt.step(lr: lr)
        model.zeroGradients()
        return norm
    }

    /// An AdamW over what `model` trains (see `trainable`), its gradients allocated first: models are
    /// loaded frozen, and the trainer that optimises one is what makes it trainable (and sets its
    /// activation recomputation from `control`).
    static func optimiser(_ model: LlamaModel, lr: Double, _ control: TrainingControl) -> AdamW {
        model.makeTrainable()
        model.recompute = control.recompute
        if control.recompute { control.log("recompute: block activations are recomputed in backward") }
        return AdamW(parameters: trainable(model), config: AdamWConfig(lr: Float(lr)))
    }

    /// What an optimiser updates: the LoRA factors when adapters are attached (the base weights stay
    /// frozen), else every parameter.
    static func trainable(_ model: LlamaModel) -> [Parameter] {
        model.loraParameters.isEmpty ? model.parameters : model.loraParameters
    }

    /// Response tokens in a batch of pairs (throughput accounting).
    static func tokenCount(_ pairs: [SequencePair]) -> Int { pairs.reduce(0) { $0 + $1.response.count } }

    /// Mean of `xs` (0 when empty).
    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
}

/// Saves and restores a trainer's state; every trainer uses it the same way.
struct Checkpointer<Progress: Codable> {
    let store: ResumeStore?
    let every: Int
    private let control: TrainingControl
    /// The snapshot file holding the reported points up to its step.
    static var metricsFile: String { "metrics.json" }

    init(_ control: TrainingControl) {
        store = control.resumeDirectory.map { ResumeStore(directory: $0) }
        every = control.checkpointEvery
        self.control = control
    }

    /// Whether to save after `step` of `total`.
    func due(_ step: Int, _ total: Int) -> Bool {
        store != nil && (step == total || (every > 0 && step % every == 0))
    }

    /// Loads the latest snapshot into `models` and `optimisers` (matched by group name) and returns its progress.
    ///
    /// The points reported before the snapshot are replayed to the reporter (and kept in the history),
    /// so the node's curves start at step 1 again, and the log says where training resumed.
    func restore(models: [String: LlamaModel], optimisers: [String: AdamW]) throws -> (step: Int, progress: Progress)? {
        guard let store, let snap = try store.latest() else { return nil }
        for (name, model) in models {
            guard let t = snap.groups["model." + name] else { throw TrainingError.checkpointMismatch("no model '\(name)'") }
            try model.load(t)
        }
        for (name, opt) in optimisers {
            guard let t = snap.groups["optim." + name] else { throw TrainingError.checkpointMismatch("no optimiser '\(name)'") }
            try opt.loadState(t)
        }
        let progress = try JSONDecoder().decode(Progress.self, from: snap.progress)
        var rows: [MetricsHistory.Row] = []
        if let data = snap.files[Self.metricsFile] {
            do { rows = try JSONDecoder().decode([MetricsHistory.Row].self, from: data) } catch {
                throw ResumeStore.StoreError.corrupt(store.directory.appendingPathComponent(Self.metricsFile), "\(error)")
            }
        }
        control.history.replace(with: rows)
        for row in rows { control.reporter(row.step, row.total, row.values) }
        control.log("resumed from step \(snap.step) (\(rows.count) earlier points restored)")
        return (snap.step, progress)
    }

    func save(step: Int, models: [String: LlamaModel], optimisers: [String: AdamW], progress: Progress) throws {
        guard let store else { return }
        var groups: [String: [String: Tensor]] = [:]
        for (name, m) in models { groups["model." + name] = m.namedTensors() }
        for (name, o) in optimisers { groups["optim." + name] = o.stateTensors() }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try store.save(step: step, groups: groups, progress: try enc.encode(progress),
                       files: [Self.metricsFile: try enc.encode(control.history.rows)])
    }
}

/// The order in which PrefLab's trainers visit `count` items in `epoch` (seeded by `seed` alone), for engines
/// that must see the same batches in the same order.
public func trainingOrder(count: Int, epoch: Int, seed: UInt64) -> [Int] {
    TrainerKit.epochOrder(count: count, epoch: epoch, seed: seed)
}
