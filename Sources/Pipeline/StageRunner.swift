import Foundation
import RecipeSpec

/// Runs one stage kind. The `Stages` target binds kinds to real code; tests bind fakes.
///
/// A runner reads its inputs' artifact folders, writes its own artifacts into
/// `context.outputDirectory` (a temporary folder the executor renames into the store only when
/// `run` returns), and reports progress and metrics as values through the context.
public protocol StageRunner: Sendable {
    func run(_ context: NodeContext) throws
}

/// Which runner runs a node: its stage kind on its engine. The embedded runners are one set of
/// these; a delegated engine (TRL, OpenRLHF, ...) adds its own for the kinds it covers.
public struct RunnerKey: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var engine: String

    public init(kind: String, engine: String = EngineDescriptor.embeddedName) {
        self.kind = kind
        self.engine = engine
    }

    /// Runners keyed by kind alone, all on the embedded engine.
    public static func embedded(_ runners: [String: any StageRunner]) -> [RunnerKey: any StageRunner] {
        Dictionary(uniqueKeysWithValues: runners.map { (RunnerKey(kind: $0.key), $0.value) })
    }

    public var description: String { "\(kind) on \(engine)" }
}

/// Everything one node run sees: its resolved stage, its inputs' artifacts and where to write.
public struct NodeContext: Sendable {
    /// The node's content hash (hex).
    public var hash: String
    /// The resolved stage (kind, config with defaults, input edges).
    public var stage: ResolvedStage
    /// Input field name → the finished artifact folder of the node it references.
    public var inputs: [String: URL]
    /// Where to write this node's artifacts; renamed into the store when `run` returns.
    public var outputDirectory: URL
    /// A folder that survives an interrupted run of this node: training checkpoints go here,
    /// and a restarted run resumes from what it finds.
    public var resumeDirectory: URL
    /// Receives progress and metric records; the executor writes them to the node's
    /// `metrics.jsonl` and drives the progress display.
    public var reporter: any ProgressReporter

    public init(hash: String, stage: ResolvedStage, inputs: [String: URL], outputDirectory: URL,
                resumeDirectory: URL, reporter: any ProgressReporter) {
        self.hash = hash
        self.stage = stage
        self.inputs = inputs
        self.outputDirectory = outputDirectory
        self.resumeDirectory = resumeDirectory
        self.reporter = reporter
    }
}

/// Progress of a running node, reported as values (never printed by the stage itself).
public protocol ProgressReporter: Sendable {
    /// A point on the node's curves: step i of total, with named values (loss, reward, kl, ...).
    func record(step: Int, of total: Int, values: [String: Double])
    /// A free-form log line kept in the node's log.
    func log(_ message: String)
    /// The node's final summary metrics; tables read these (`stage.metric`).
    func summary(_ values: [String: Double])
}
