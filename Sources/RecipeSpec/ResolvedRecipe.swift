/// A recipe after `extends`, overrides, matrix expansion, references and defaults are applied.
public struct ResolvedRecipe: Sendable {
    /// The recipe's `name:` (e.g. `d2po/table2`); names its Results/ folder.
    public var name: String
    /// The file it was read from.
    public var file: String
    /// One cell per point of the matrix (a single cell when there is no matrix), in matrix order.
    public var cells: [RecipeCell]
    /// The table to build from the cells' metrics, if any.
    public var table: TableSpec?
    /// The figures to draw from the cells' metric curves (`plots:`), in declaration order.
    public var plots: [(name: String, spec: PlotSpec)] = []
    /// The paper claims judged against the table (`claims:`), in declaration order.
    public var claims: [ClaimSpec] = []
    /// The recipe's `findings_note:`: context printed in findings.md beside the generated verdicts.
    public var findingsNote: String?
    /// The whole resolved document (with `cells` flattened away), for `resolve`, `diff` and hashing.
    public var document: ConfigNode
    /// Matrix axes in order with their values (after scale and overrides; empty with no matrix).
    public var axes: [(axis: String, values: [ConfigValue])] = []
    /// The selected entry of `scales:` (`default` when none).
    public var scale: String = "default"

    public init(name: String, file: String, cells: [RecipeCell], table: TableSpec?, document: ConfigNode) {
        self.name = name
        self.file = file
        self.cells = cells
        self.table = table
        self.document = document
    }
}

/// One point of the matrix: the axis values and the stages with every reference substituted.
public struct RecipeCell: Sendable {
    /// Axis name → value, in axis order (empty with no matrix).
    public var matrix: [(axis: String, value: ConfigValue)]
    /// Stages in declaration order.
    public var stages: [ResolvedStage]

    public init(matrix: [(axis: String, value: ConfigValue)], stages: [ResolvedStage]) {
        self.matrix = matrix
        self.stages = stages
    }

    /// The stage called `name`.
    public func stage(_ name: String) -> ResolvedStage? { stages.first { $0.name == name } }

    /// A label such as `task=word_collector,algorithm=dpo`.
    public var label: String {
        matrix.isEmpty ? "default" : matrix.map { "\($0.axis)=\($0.value)" }.joined(separator: ",")
    }
}

/// One stage instance: kind, fully resolved config (defaults filled), and its input edges.
public struct ResolvedStage: Sendable {
    /// The key under `stages:`.
    public var name: String
    /// The registered kind.
    public var kind: String
    /// The config map with defaults filled; stage-reference fields hold the referenced stage's name.
    public var config: ConfigNode
    /// Field name → referenced stage name, for every `stageRef` field that is set.
    public var inputs: [(field: String, stage: String)]
    /// Where the stage was declared.
    public var location: SourceLocation?
    /// The engine that runs it: the stage's `engine:`, else the recipe's (when this kind runs there),
    /// else `embedded`. Kept out of `config`: an embedded node's hash is as it always was.
    public var engine: String = EngineDescriptor.embeddedName
    /// The stage's `engine_args:` (a map, hashed into a delegated node), or nil.
    public var engineArgs: ConfigNode?
    /// Where the stage's own `engine:` key is written, for messages about the engine choice.
    public var engineLocation: SourceLocation?

    public init(name: String, kind: String, config: ConfigNode,
                inputs: [(field: String, stage: String)], location: SourceLocation?) {
        self.name = name
        self.kind = kind
        self.config = config
        self.inputs = inputs
        self.location = location
    }

    /// Whether a delegated engine (not the embedded one) runs this stage.
    public var isDelegated: Bool { engine != EngineDescriptor.embeddedName }
}

/// A recipe's `table:` block.
public struct TableSpec: Sendable, Hashable {
    /// Matrix axis (or list of axes joined) that labels rows.
    public var rows: [String]
    /// Matrix axis that labels columns.
    public var columns: [String]
    /// `stage.metric` giving the cell value, e.g. `eval.mean`.
    public var value: String
    /// Matrix axis averaged over (e.g. `seed`), reported as mean ± std.
    public var aggregate: String?
    /// Path of a CSV with the paper's numbers for the same rows and columns.
    public var paper: String?

    public init(rows: [String], columns: [String], value: String, aggregate: String? = nil, paper: String? = nil) {
        self.rows = rows
        self.columns = columns
        self.value = value
        self.aggregate = aggregate
        self.paper = paper
    }
}
