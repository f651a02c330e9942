/// One entry of a recipe's `claims:` list: a paper's claim as a comparison of two table cells,
/// judged by the rule of docs/verdicts.md (`preflab verdicts`, and every `run`/`table`).
///
/// ```yaml
/// claims:
///   - id: larger-rm-ppo
///     text: "Better RMs give marginal to no downstream PPO gain (§3.3)"
///     a: { row: large / ultrafeedback, column: ppo_eval.mean }
///     b: { row: small / ultrafeedback }          # column: a's when left out
///     expect: equal
///     min_effect: 0.02
/// ```
/// `expect` is the claimed sign of a − b: `greater`, `less`, `equal` (within ±min_effect), or `not_less`
/// (a − b above −min_effect: "does not degrade").
public struct ClaimSpec: Sendable, Hashable {
    /// What the claim says about a − b.
    public enum Expectation: String, Sendable, CaseIterable {
        /// a is larger than b (by at least `minEffect` when given).
        case greater
        /// a is smaller than b (by at least `minEffect` when given).
        case less
        /// a and b differ by less than `minEffect` (the equivalence margin, required).
        case equal
        /// a is not below b by `minEffect` or more (non-inferiority: "does not degrade"; the margin, required).
        case notLess = "not_less"

        /// Whether `min_effect` is a margin around 0 (required) rather than a claimed size (optional).
        public var takesMargin: Bool { self == .equal || self == .notLess }
    }

    /// One side of the comparison: a table cell.
    public struct Arm: Sendable, Hashable {
        /// The table's row label (row-axis values joined by ` / `, as in table.md).
        public var row: String
        /// The table's column label.
        public var column: String
        /// One run stands for every value of the aggregate axis (e.g. the SFT row, which trains
        /// nothing the seed changes): the other arm is tested against it with a one-sample test.
        public var fixed: Bool

        public init(row: String, column: String, fixed: Bool = false) {
            self.row = row
            self.column = column
            self.fixed = fixed
        }

        /// `row | column`, as findings.md names the cell.
        public var label: String { "\(row) | \(column)" }
    }

    /// A short name, unique in the recipe (letters, digits, '_' and '-').
    public var id: String
    /// The paper's claim in words, with its section.
    public var text: String
    /// The two cells compared; the test is on mean(a) − mean(b).
    public var a: Arm, b: Arm
    /// The direction (or absence) of the difference the paper claims.
    public var expect: Expectation
    /// The smallest difference the claim means (the paper's effect, scaled to ours); for
    /// `equal` and `not_less`, the margin.
    public var minEffect: Double?
    /// Pair the arms' values by aggregate value (their runs at one seed share seed-specific
    /// upstream nodes, as in checks/upstream-seeds); Welch's test otherwise.
    public var paired: Bool
    /// Context for the reader of findings.md, printed under the verdicts (`note:`): what stands
    /// for what, why a margin was chosen. Never a verdict: the outcome is PrefLab's.
    public var note: String?
    /// Where the claim was written, for errors found when the results are read.
    public var location: SourceLocation?

    public init(id: String, text: String, a: Arm, b: Arm, expect: Expectation, minEffect: Double? = nil,
                paired: Bool = false, note: String? = nil, location: SourceLocation? = nil) {
        self.id = id
        self.text = text
        self.a = a
        self.b = b
        self.expect = expect
        self.minEffect = minEffect
        self.paired = paired
        self.note = note
        self.location = location
    }
}
