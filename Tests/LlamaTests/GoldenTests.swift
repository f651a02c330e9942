import XCTest
import Tensor
@testable import Llama

/// Compares the engine with the float64 PyTorch reference in Golden/make_golden.py.
final class GoldenTests: XCTestCase {
    struct Case: Decodable {
        var logits: [Double]?
        var logProbs: [Double]?
        var scalarOutputs: [Double]?
        var grads: [String: [Double]]
        var parameterNames: [String]
    }
    struct WeightEntry: Decodable { var shape: [Int]; var data: [Float] }
    struct Golden: Decodable {
        var config: LlamaConfig
        var sequences: [[Int32]]
        var weights: [String: WeightEntry]
        var lmObjective: [Float]
        var scalarObjective: [Float]
        var untied: Case
        var tied: Case
        var scalar: Case
    }

    static func loadGolden() throws -> Golden {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "golden_tiny", withExtension: "json", subdirectory: "Golden"))
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    static func model(_ g: Golden, _ c: Case, head: HeadKind, tied: Bool) throws -> LlamaModel {
        var config = g.config
        config.tiedEmbeddings = tied
        let m = LlamaModel(config: config, head: head, seed: 0)
        var named: [String: Tensor] = [:]
        for n in c.parameterNames { named[n] = Tensor(shape: g.weights[n]!.shape, data: g.weights[n]!.data) }
        try m.load(named)
        XCTAssertEqual(m.parameters.map(\.name).sorted(), c.parameterNames.sorted())
        return m
    }

    func assertClose(_ a: [Float], _ b: [Double], _ what: String, tol: Double = 1e-4) {
        XCTAssertEqual(a.count, b.count, what)
        var worst = 0.0
        for (x, y) in zip(a, b) { worst = max(worst, abs(Double(x) - y)) }
        XCTAssertLessThan(worst, tol, "\(what): max abs difference \(worst)")
    }

    func testLMHeadsMatchReference() throws {
        let g = try Self.loadGolden()
        let batch = TokenBatch(sequences: g.sequences, pad: 0)
        for (c, tied) in [(g.untied, false), (g.tied, true)] {
            let m = try Self.model(g, c, head: .lm, tied: tied)
            assertClose(m.logits(batch), c.logits!, "logits tied=\(tied)")
            assertClose(m.tokenLogProbs(batch, keepActivations: true), c.logProbs!, "logProbs tied=\(tied)")
            m.zeroGradients()
            m.backwardTokenLogProbs(g.lmObjective)
            for p in m.parameters { assertClose(Array(p.grad), c.grads[p.name]!, "grad \(p.name) tied=\(tied)") }
        }
    }

    func testScalarHeadMatchesReference() throws {
        let g = try Self.loadGolden()
        let batch = TokenBatch(sequences: g.sequences, pad: 0)
        let m = try Self.model(g, g.scalar, head: .scalar, tied: false)
        assertClose(m.scalarOutputs(batch, keepActivations: true), g.scalar.scalarOutputs!, "scalar outputs")
        m.zeroGradients()
        m.backwardScalarOutputs(g.scalarObjective)
        for p in m.parameters { assertClose(Array(p.grad), g.scalar.grads[p.name]!, "grad \(p.name)") }
    }
}
