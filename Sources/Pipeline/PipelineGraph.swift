import Foundation
import RecipeSpec

/// A problem found while building or running a pipeline graph; each names where it happened.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    /// A stage uses a kind the catalog does not know.
    case unknownKind(cell: String, stage: String, kind: String, location: SourceLocation?)
    /// A stage-reference field names a stage that is not in the cell.
    case unknownReference(cell: String, stage: String, field: String, reference: String, location: SourceLocation?)
    /// A stage-reference field holds something other than a stage name (or list of names).
    case badReference(cell: String, stage: String, field: String, found: String, location: SourceLocation?)
    /// Stages reference each other in a cycle.
    case referenceCycle(cell: String, stages: [String])
    /// The executor has no runner for a kind on the engine a stage of the graph uses.
    case noRunner(kind: String, engine: String, stage: String)
    /// A target hash passed to the executor is not a node of the graph.
    case unknownTarget(String)
    /// A stage names an engine the catalog does not know.
    case unknownEngine(cell: String, stage: String, engine: String, location: SourceLocation?)
    /// What a stage reads from outside the graph could not be fingerprinted.
    case externalInputs(cell: String, stage: String, message: String, location: SourceLocation?)
    /// One node was asked for (`run-node`) before an input of it was finished.
    case inputMissing(stage: String, field: String, hash: String)
    /// A node's worker lost its lock (its lease expired while it stalled) and left the node to the new holder.
    case lockLost(stage: String, hash: String)
    /// A node computed elsewhere reported success but the shared store has no finished node.
    case notCommitted(stage: String, hash: String)

    public var description: String {
        func at(_ l: SourceLocation?) -> String { l.map { "\($0): " } ?? "" }
        switch self {
        case let .unknownKind(cell, stage, kind, loc):
            return "\(at(loc))stage '\(stage)' (cell \(cell)) has unknown kind '\(kind)'; expected a registered stage kind"
        case let .unknownReference(cell, stage, field, ref, loc):
            return "\(at(loc))stage '\(stage)' (cell \(cell)) field '\(field)' references '\(ref)', which is not a stage of the recipe"
        case let .badReference(cell, stage, field, found, loc):
            return "\(at(loc))stage '\(stage)' (cell \(cell)) field '\(field)' holds \(found); expected a stage name or a list of stage names"
        case let .referenceCycle(cell, stages):
            return "stages reference each other in a cycle (cell \(cell)): " + stages.joined(separator: " -> ")
        case let .noRunner(kind, engine, stage):
            return "no runner is registered for stage kind '\(kind)' on engine '\(engine)' (used by stage '\(stage)')"
        case let .unknownTarget(t):
            return "target '\(t)' is not a node of the pipeline graph"
        case let .unknownEngine(cell, stage, engine, loc):
            return "\(at(loc))stage '\(stage)' (cell \(cell)) runs on unknown engine '\(engine)'"
        case let .externalInputs(cell, stage, message, loc):
            return "\(at(loc))stage '\(stage)' (cell \(cell)): cannot fingerprint the files it reads: \(message)"
        case let .inputMissing(stage, field, hash):
            return "stage '\(stage)': input '\(field)' (node \(hash.prefix(12))) is not finished in the store; run its node first"
        case let .lockLost(stage, hash):
            return "stage '\(stage)' (node \(hash.prefix(12))): this worker's lease on the node expired and was taken over; its result was not committed"
        case let .notCommitted(stage, hash):
            return "stage '\(stage)' (node \(hash.prefix(12))): its worker finished but the shared store has no finished node (is the store on a file system every worker sees?)"
        }
    }
}

/// One unit of work: a stage instance identified by the content hash of what it computes.
public struct GraphNode: Sendable {
    /// SHA-256 (hex) of kind, canonical config with references replaced by input hashes, and code version.
    public let hash: String
    /// The stage kind.
    public let kind: String
    /// The stage as first met (in cell order, then declaration order).
    public let stage: ResolvedStage
    /// Input field → the referenced node's hash; list fields appear as `field[0]`, `field[1]`, ...
    public let inputs: [(field: String, hash: String)]
    /// Every (cell label, stage name) that resolves to this node.
    public internal(set) var usedBy: [(cell: String, stage: String)]
    /// The kind's code version, part of the hash.
    public let codeVersion: Int
    /// The canonical JSON config that was hashed (stage references replaced by hashes).
    public let canonicalConfig: String
    /// The fingerprint of what the stage reads from outside the graph (data files), part of the hash;
    /// nil for stages that read nothing outside (their hash is as it was before fingerprints existed).
    public var external: String? = nil

    /// The engine that runs it (`embedded` unless the stage delegates).
    public var engine: String { stage.engine }
    /// The executor's key for this node's runner.
    public var runnerKey: RunnerKey { RunnerKey(kind: kind, engine: engine) }

    /// The first 12 hex digits, for display.
    public var shortHash: String { String(hash.prefix(12)) }
}

/// Fingerprints what a stage reads from outside the graph (a dataset's files), or nil when it reads
/// nothing there. The fingerprint joins the node hash, so editing such a file makes a new node instead of
/// reusing one made from the old contents. A thrown error stops the graph build, naming the stage.
public typealias ExternalInputs = @Sendable (ResolvedStage) throws -> String?

/// The deduplicated, content-addressed graph of a recipe's stage instances.
public struct PipelineGraph: Sendable {
    /// Every node once, dependencies before dependents.
    public private(set) var nodes: [GraphNode] = []
    /// Producer hash → consumer hash, with the consumer's input field.
    public private(set) var edges: [(from: String, to: String, field: String)] = []
    /// Cell labels in matrix order.
    public private(set) var cellLabels: [String] = []
    private var index: [String: Int] = [:]
    private var cellNodes: [[String: String]] = []

    /// Builds the graph; equal stage instances across cells become one node. `external` fingerprints
    /// what stages read from outside the graph (see `ExternalInputs`).
    public init(recipe: ResolvedRecipe, catalog: StageCatalog, external: ExternalInputs? = nil) throws {
        try self.init(recipes: [recipe], catalog: catalog, external: external)
    }

    /// Builds one graph over several recipes (cells labelled `recipe name:cell label` when more than one).
    public init(recipes: [ResolvedRecipe], catalog: StageCatalog, external: ExternalInputs? = nil) throws {
        var fingerprints = FingerprintCache(external: external)
        for recipe in recipes {
            for cell in recipe.cells {
                let label = recipes.count > 1 ? "\(recipe.name):\(cell.label)" : cell.label
                var builder = CellBuilder(cell: cell, label: label, catalog: catalog, fingerprints: fingerprints)
                for stage in cell.stages { _ = try builder.hash(of: stage.name, graph: &self) }
                fingerprints = builder.fingerprints
                cellLabels.append(label)
                cellNodes.append(builder.hashes)
            }
        }
    }

    /// The node with this hash.
    public func node(hash: String) -> GraphNode? { index[hash].map { nodes[$0] } }

    /// The node a cell's stage resolves to; `cell` is the cell label (see `RecipeCell.label`).
    public func node(for cell: String, stage: String) -> GraphNode? {
        guard let i = cellLabels.firstIndex(of: cell) else { return nil }
        return node(cellIndex: i, stage: stage)
    }

    /// The node the stage of the cell at `cellIndex` (matrix order) resolves to.
    public func node(cellIndex: Int, stage: String) -> GraphNode? {
        guard cellNodes.indices.contains(cellIndex), let h = cellNodes[cellIndex][stage] else { return nil }
        return node(hash: h)
    }

    /// Hashes of the nodes that the stage named `stage` resolves to, over all cells (for `--stage` targets).
    public func hashes(forStage stage: String) -> Set<String> {
        Set(cellNodes.compactMap { $0[stage] })
    }

    /// Nodes no other node takes as input: a recipe's final results.
    public var sinks: Set<String> {
        Set(nodes.map(\.hash)).subtracting(edges.map(\.from))
    }

    /// The given hashes and everything they depend on, transitively.
    public func closure(of targets: Set<String>) -> Set<String> {
        var seen = Set<String>()
        var stack = Array(targets)
        while let h = stack.popLast() {
            guard seen.insert(h).inserted, let n = node(hash: h) else { continue }
            stack += n.inputs.map(\.hash)
        }
        return seen
    }

    fileprivate mutating func add(_ node: GraphNode, cell: String, stage: String) {
        if let i = index[node.hash] {
            nodes[i].usedBy.append((cell, stage))
            return
        }
        var n = node
        n.usedBy = [(cell, stage)]
        index[n.hash] = nodes.count
        nodes.append(n)
        for input in n.inputs { edges.append((input.hash, n.hash, input.field)) }
    }
}

/// The nodes of `b` whose hashes are not in `a`: what switching from `a` to `b` would compute.
public func nodesToRecompute(from a: PipelineGraph, to b: PipelineGraph) -> [GraphNode] {
    let known = Set(a.nodes.map(\.hash))
    return b.nodes.filter { !known.contains($0.hash) }
}

extension ResolvedRecipe {
    /// SHA-256 of the resolved document's canonical JSON: heads tables and results.
    public var contentHash: String { SHA256.hex(document.value.canonicalJSON) }
}

/// Hashes one cell's stages depth-first, adding each node to the graph after its inputs.
private struct CellBuilder {
    let cell: RecipeCell
    let label: String
    let catalog: StageCatalog
    var hashes: [String: String] = [:]
    var visiting: [String] = []
    var fingerprints: FingerprintCache

    init(cell: RecipeCell, label: String, catalog: StageCatalog, fingerprints: FingerprintCache) {
        self.cell = cell
        self.label = label
        self.catalog = catalog
        self.fingerprints = fingerprints
    }

    mutating func hash(of name: String, graph: inout PipelineGraph) throws -> String {
        if let h = hashes[name] { return h }
        if let start = visiting.firstIndex(of: name) {
            throw PipelineError.referenceCycle(cell: label, stages: Array(visiting[start...]) + [name])
        }
        guard let stage = cell.stages.first(where: { $0.name == name }) else {
            throw PipelineError.unknownReference(cell: label, stage: visiting.last ?? name, field: "?",
                                                 reference: name, location: nil)
        }
        guard let schema = catalog.schema(stage.kind) else {
            throw PipelineError.unknownKind(cell: label, stage: name, kind: stage.kind, location: stage.location)
        }
        visiting.append(name)
        defer { visiting.removeLast() }
        let refs = try references(of: stage, schema: schema)
        var inputHashes: [String: String] = [:]
        var inputs: [(field: String, hash: String)] = []
        for ref in refs {
            guard cell.stages.contains(where: { $0.name == ref.name }) else {
                throw PipelineError.unknownReference(cell: label, stage: name, field: ref.field,
                                                     reference: ref.name, location: stage.location)
            }
            let h = try hash(of: ref.name, graph: &graph)
            inputHashes[ref.name] = h
            inputs.append((ref.field, h))
        }
        let config = substitute(stage.config.value, refFields: Set(refs.map(\.key)), hashes: inputHashes)
        let inputJSON = "{" + inputs.sorted { $0.field < $1.field }
            .map { ConfigValue.string($0.field).canonicalJSON + ":" + ConfigValue.string($0.hash).canonicalJSON }
            .joined(separator: ",") + "}"
        let external = try fingerprints.fingerprint(of: stage, config: config.canonicalJSON, cell: label)
        let engine = try engineJSON(stage)
        let document = "{\"codeVersion\":\(schema.codeVersion),\"config\":\(config.canonicalJSON)"
            + (engine.map { ",\"engine\":" + $0 } ?? "")
            + (external.map { ",\"external\":" + ConfigValue.string($0).canonicalJSON } ?? "")
            + ",\"inputs\":\(inputJSON),\"kind\":\(ConfigValue.string(stage.kind).canonicalJSON)}"
        let h = SHA256.hex(document)
        graph.add(GraphNode(hash: h, kind: stage.kind, stage: stage, inputs: inputs, usedBy: [],
                            codeVersion: schema.codeVersion, canonicalConfig: config.canonicalJSON, external: external),
                  cell: label, stage: name)
        hashes[name] = h
        return h
    }

    /// What a delegated node's hash adds: the engine's name, major.minor version, bridge code version,
    /// precision and `engine_args`. Nil for the embedded engine, so its nodes hash as they always did.
    func engineJSON(_ stage: ResolvedStage) throws -> String? {
        guard stage.isDelegated else { return nil }
        guard let e = catalog.engines[stage.engine] else {
            throw PipelineError.unknownEngine(cell: label, stage: stage.name, engine: stage.engine, location: stage.engineLocation)
        }
        let args = stage.engineArgs?.value ?? .map([])
        let precision = args.entries?.first { $0.key == "precision" }?.value.value.string ?? e.precision
        return ConfigValue.map([("args", ConfigNode(args)), ("bridge", ConfigNode(.int(e.bridgeVersion(for: stage.kind)))),
                                ("name", ConfigNode(.string(e.name))), ("precision", ConfigNode(.string(precision))),
                                ("version", ConfigNode(.string(e.version)))]).canonicalJSON
    }

    /// Stage references: fields typed `stageRef` (or a list of them) plus the stage's declared inputs.
    func references(of stage: ResolvedStage, schema: StageSchema) throws -> [(key: String, field: String, name: String)] {
        var keys: [String] = schema.fields.filter { Self.isReference($0.type) }.map(\.name)
        // Declared inputs name list elements `field[i]`; only fields the schema does not type add keys.
        for input in stage.inputs {
            let base = input.field.split(separator: "[", maxSplits: 1).first.map(String.init) ?? input.field
            if !keys.contains(base) { keys.append(base) }
        }
        guard case let .map(entries) = stage.config.value else {
            return stage.inputs.map { ($0.field, $0.field, $0.stage) }
        }
        var out: [(key: String, field: String, name: String)] = []
        for key in keys {
            guard let node = entries.first(where: { $0.key == key })?.value else {
                for input in stage.inputs where input.field == key || input.field.hasPrefix(key + "[") {
                    out.append((key, input.field, input.stage))
                }
                continue
            }
            switch node.value {
            case .null: continue
            case let .string(name): out.append((key, key, name))
            case let .list(items):
                for (i, item) in items.enumerated() {
                    guard case let .string(name) = item.value else {
                        throw PipelineError.badReference(cell: label, stage: stage.name, field: "\(key)[\(i)]",
                                                         found: item.value.canonicalJSON, location: item.location ?? stage.location)
                    }
                    out.append((key, "\(key)[\(i)]", name))
                }
            default:
                throw PipelineError.badReference(cell: label, stage: stage.name, field: key,
                                                 found: node.value.canonicalJSON, location: node.location ?? stage.location)
            }
        }
        return out
    }

    static func isReference(_ type: FieldType) -> Bool {
        switch type {
        case .stageRef: return true
        case let .list(inner): return isReference(inner)
        default: return false
        }
    }

    /// The config with every reference field's stage names replaced by those stages' hashes.
    func substitute(_ value: ConfigValue, refFields: Set<String>, hashes: [String: String]) -> ConfigValue {
        guard case let .map(entries) = value else { return value }
        return .map(entries.map { entry in
            guard refFields.contains(entry.key) else { return entry }
            switch entry.value.value {
            case let .string(name):
                return (entry.key, ConfigNode(.string(hashes[name] ?? name), at: entry.value.location))
            case let .list(items):
                let replaced = items.map { item -> ConfigNode in
                    guard case let .string(name) = item.value else { return item }
                    return ConfigNode(.string(hashes[name] ?? name), at: item.location)
                }
                return (entry.key, ConfigNode(.list(replaced), at: entry.value.location))
            default:
                return entry
            }
        })
    }
}

/// External fingerprints, computed once per distinct (kind, config) in one graph build: a dataset stage
/// shared by many cells reads its files once.
struct FingerprintCache {
    let external: ExternalInputs?
    var known: [String: String?] = [:]

    mutating func fingerprint(of stage: ResolvedStage, config: String, cell: String) throws -> String? {
        guard let external else { return nil }
        let key = stage.kind + "\u{0}" + config
        if let f = known[key] { return f }
        let f: String?
        do { f = try external(stage) } catch {
            throw PipelineError.externalInputs(cell: cell, stage: stage.name, message: "\(error)", location: stage.location)
        }
        known[key] = f
        return f
    }
}
