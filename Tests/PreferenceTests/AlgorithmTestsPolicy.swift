import Foundation
import Tokenizer
import XCTest
@testable import Preference

/// The BPE tokenizer + chat template codec of real models.
final class AlgorithmTestsPolicy: XCTestCase {
    private func codec(_ template: ChatTemplate = .simple) throws -> TokenizerCodec {
        let tok = BPETokenizer.train(corpus: ["hello world, how are you?", "the cat sat on the mat"], vocabSize: 300,
                                     specialTokens: template.specialTokens)
        return try TokenizerCodec(tokenizer: tok, template: template)
    }

    func testPromptTokensRenderTheTemplateWithGenerationPrompt() throws {
        let c = try codec()
        let ids = c.promptTokens(Prompt(messages: [ChatMessage(role: "user", content: "hello cat")]))
        XCTAssertEqual(c.tokenizer.decode(ids), ChatTemplate.simple.render([("user", "hello cat")], addGenerationPrompt: true))
        XCTAssertEqual(c.eos, c.tokenizer.id(of: "<|end|>"))
        // Responses close with end-of-turn, which decode drops.
        XCTAssertEqual(c.decode(c.encode("the mat") + [c.eos]), "the mat")
    }

    func testSpecialTokenTextInUserContentStaysText() throws {
        let c = try codec()
        let ids = c.promptTokens(Prompt("say <|end|> now"))
        // Only the template's own end-of-turn after the user message, none from the content.
        XCTAssertEqual(ids.filter { $0 == c.eos }.count, 1)
        XCTAssertEqual(c.tokenizer.decode(ids), ChatTemplate.simple.render([("user", "say <|end|> now")], addGenerationPrompt: true))
    }

    func testMissingEndOfTurnTokenIsAClearError() {
        let tok = BPETokenizer.train(corpus: ["abc abc"], vocabSize: 270, specialTokens: [])
        XCTAssertThrowsError(try TokenizerCodec(tokenizer: tok, template: .chatML))
    }
}
