import Foundation

/// Renders a graph as a plan: a text tree for the terminal and Graphviz DOT for pictures.
public enum PlanRenderer {
    /// Nodes in topological order, indented by dependency depth, each with kind, short hash,
    /// stage names, the cells using it and `[cached]` when the store already has it.
    public static func text(graph: PipelineGraph, store: ArtifactStore?) -> String {
        let depth = depths(graph)
        let cached = graph.nodes.filter { store?.isComplete($0.hash) ?? false }.count
        var lines = ["plan: \(graph.nodes.count) nodes, \(cached) cached, \(graph.nodes.count - cached) to run"]
        for node in graph.nodes {
            let indent = String(repeating: "  ", count: depth[node.hash] ?? 0)
            var line = "\(indent)\(node.kind) \(node.shortHash)  \(stageNames(node))  cells: \(cellText(node, graph: graph))"
            if store?.isComplete(node.hash) ?? false { line += "  [cached]" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Graphviz DOT: one box per node (cached nodes filled grey), edges labelled with input fields.
    public static func dot(graph: PipelineGraph, store: ArtifactStore?) -> String {
        var lines = ["digraph pipeline {", "  rankdir=TB;", "  node [shape=box, fontname=\"monospace\"];"]
        for node in graph.nodes {
            let label = "\(node.kind)\n\(node.shortHash)\n\(stageNames(node))"
            var attributes = "label=\(quote(label))"
            if store?.isComplete(node.hash) ?? false {
                attributes += ", style=filled, fillcolor=\"#d9d9d9\", tooltip=\"cached\""
            }
            lines.append("  \(quote(node.shortHash)) [\(attributes)];")
        }
        for edge in graph.edges {
            lines.append("  \(quote(String(edge.from.prefix(12)))) -> \(quote(String(edge.to.prefix(12)))) [label=\(quote(edge.field))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Longest path from a node without inputs (those are depth 0).
    static func depths(_ graph: PipelineGraph) -> [String: Int] {
        var depth: [String: Int] = [:]
        for node in graph.nodes {
            depth[node.hash] = node.inputs.map { (depth[$0.hash] ?? 0) + 1 }.max() ?? 0
        }
        return depth
    }

    static func stageNames(_ node: GraphNode) -> String {
        var names: [String] = []
        for use in node.usedBy where !names.contains(use.stage) { names.append(use.stage) }
        return names.joined(separator: ",")
    }

    /// `all (N)` when every cell uses the node, else up to three labels and a count of the rest.
    static func cellText(_ node: GraphNode, graph: PipelineGraph) -> String {
        var cells: [String] = []
        for use in node.usedBy where !cells.contains(use.cell) { cells.append(use.cell) }
        if cells.count == graph.cellLabels.count, cells.count > 1 { return "all (\(cells.count))" }
        let shown = cells.prefix(3).joined(separator: "; ")
        return cells.count > 3 ? shown + "; +\(cells.count - 3) more" : shown
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
