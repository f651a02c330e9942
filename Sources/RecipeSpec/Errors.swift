/// One problem in a recipe: where, which key, what is wrong, what was expected, a likely fix.
public struct RecipeError: Error, CustomStringConvertible, Sendable, Hashable {
    /// Where the offending value or key was written; nil when no file position applies.
    public var location: SourceLocation?
    /// Dotted path of the offending key, e.g. `stages.train.beta` (empty for file-level problems).
    public var keyPath: String
    /// What is wrong.
    public var message: String
    /// What would have been accepted, e.g. `int` or `one of dpo, ppo`.
    public var expected: String?
    /// The closest valid spelling, when one is near enough.
    public var suggestion: String?

    public init(location: SourceLocation?, keyPath: String, message: String,
                expected: String? = nil, suggestion: String? = nil) {
        self.location = location
        self.keyPath = keyPath
        self.message = message
        self.expected = expected
        self.suggestion = suggestion
    }

    /// `file:line:col: error: <keyPath>: <message>[; expected <expected>][; did you mean '<suggestion>'?]`.
    public var description: String {
        var out = location.map { "\($0): error: " } ?? "error: "
        if !keyPath.isEmpty { out += keyPath + ": " }
        out += message
        if let expected { out += "; expected \(expected)" }
        if let suggestion { out += "; did you mean '\(suggestion)'?" }
        return out
    }
}

/// Every problem found in a recipe, in file order; what `RecipeLoader.load` throws.
public struct RecipeErrors: Error, CustomStringConvertible, Sendable {
    /// The problems, sorted by file, line and column (those without a location last).
    public var errors: [RecipeError]

    public init(_ errors: [RecipeError]) {
        self.errors = errors
    }

    /// One line per error.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Collects errors during one loading phase, dropping exact repeats (the same template
/// problem shows up once per matrix cell).
struct Diagnostics {
    private(set) var errors: [RecipeError] = []
    private var seen: Set<RecipeError> = []

    var isEmpty: Bool { errors.isEmpty }

    mutating func add(_ e: RecipeError) {
        if seen.insert(e).inserted { errors.append(e) }
    }

    mutating func add(_ location: SourceLocation?, _ keyPath: String, _ message: String,
                      expected: String? = nil, suggestion: String? = nil) {
        add(RecipeError(location: location, keyPath: keyPath, message: message,
                        expected: expected, suggestion: suggestion))
    }

    mutating func add(contentsOf other: Diagnostics) {
        for e in other.errors { add(e) }
    }

    /// Throws everything collected so far, sorted into reading order.
    func throwIfAny() throws {
        guard !errors.isEmpty else { return }
        throw RecipeErrors(Diagnostics.sorted(errors))
    }

    static func sorted(_ errors: [RecipeError]) -> [RecipeError] {
        let indexed = errors.enumerated().map { ($0.offset, $0.element) }
        return indexed.sorted { a, b in
            switch (a.1.location, b.1.location) {
            case let (x?, y?):
                if x.file != y.file { return x.file < y.file }
                if x.line != y.line { return x.line < y.line }
                if x.column != y.column { return x.column < y.column }
                return a.0 < b.0
            case (.some, .none): return true
            case (.none, .some): return false
            case (.none, .none): return a.0 < b.0
            }
        }.map(\.1)
    }
}

extension ConfigValue {
    /// A short name of the value's type for error messages (`string "abc"`, `list`, ...).
    var typeDescription: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return "bool \(b)"
        case let .int(i): return "int \(i)"
        case let .double(d): return "number \(ScalarText.double(d))"
        case let .string(s): return "string \(ConfigValue.jsonQuote(s))"
        case .list: return "a list"
        case .map: return "a map"
        }
    }
}
