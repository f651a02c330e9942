import Foundation

/// A node of a Parquet schema tree, with the levels Dremel's record shredding gives it.
final class ParquetNode {
    enum Repetition { case required, optional, repeated }
    let element: ParquetSchemaElement
    let repetition: Repetition
    var children: [ParquetNode] = []
    /// The definition and repetition levels at which this node is present (counting itself).
    var maxDefinition = 0
    var maxRepetition = 0
    /// The leaf columns under this node (indices into the row group's column chunks).
    var leaves: Range<Int> = 0..<0
    /// The dotted path from the root, for messages.
    var path = ""

    var name: String { element.name }
    var isLeaf: Bool { element.physical != nil && element.numChildren == 0 }
    /// LIST annotation (converted type LIST = 3, or the LIST logical type).
    var isList: Bool { element.convertedType == 3 || element.logicalType == 3 }
    /// MAP annotation (converted types MAP / MAP_KEY_VALUE, or the MAP logical type).
    var isMap: Bool { element.convertedType == 1 || element.convertedType == 2 || element.logicalType == 2 }

    init(_ element: ParquetSchemaElement) throws {
        self.element = element
        switch element.repetition ?? 0 {
        case 0: repetition = .required
        case 1: repetition = .optional
        case 2: repetition = .repeated
        default: throw ColumnarError("schema element '\(element.name)' has unknown repetition \(element.repetition ?? -1)")
        }
    }
}

/// The schema tree of a file, rebuilt from the footer's depth-first element list.
struct ParquetSchema {
    let root: ParquetNode
    /// The leaves in column order.
    let leaves: [ParquetNode]
    static let maxDepth = 64

    init(_ elements: [ParquetSchemaElement]) throws {
        guard let first = elements.first else { throw ColumnarError("the schema is empty") }
        var index = 1
        var leaves: [ParquetNode] = []
        func build(_ node: ParquetNode, depth: Int) throws {
            guard depth < Self.maxDepth else { throw ColumnarError("schema nested more than \(Self.maxDepth) deep") }
            let start = leaves.count
            if node.element.physical != nil {
                guard node.element.numChildren == 0 else { throw ColumnarError("column '\(node.path)' has a type and children") }
                leaves.append(node)
            } else {
                guard node.element.numChildren > 0 || depth == 0 else { throw ColumnarError("group '\(node.path)' has no children") }
                for _ in 0..<node.element.numChildren {
                    guard index < elements.count else { throw ColumnarError("the schema lists fewer elements than its groups claim") }
                    let child = try ParquetNode(elements[index])
                    index += 1
                    child.maxDefinition = node.maxDefinition + (child.repetition == .required ? 0 : 1)
                    child.maxRepetition = node.maxRepetition + (child.repetition == .repeated ? 1 : 0)
                    child.path = node.path.isEmpty ? child.name : node.path + "." + child.name
                    node.children.append(child)
                    try build(child, depth: depth + 1)
                }
            }
            node.leaves = start..<leaves.count
        }
        var rootElement = first
        rootElement.repetition = 0
        root = try ParquetNode(rootElement)
        try build(root, depth: 0)
        guard index == elements.count else { throw ColumnarError("the schema has \(elements.count - index) elements outside the root") }
        self.leaves = leaves
    }
}
