import XCTest
@testable import Preference

/// Each supported file layout loads by configuration alone.
final class DataTestsFormats: XCTestCase {
    func testHHDialoguesGzipSplitAtTheSharedPrefix() throws {
        let t = try TempCatalog()
        try t.entry("hh", """
            source: {path: "\(TempCatalog.fixture("hh_small.jsonl.gz"))"}
            layout: pair
            fields: {chosen: chosen, rejected: rejected}
            """)
        let d = try t.load("hh")
        XCTAssertEqual(d.report.rowsRead, 5)
        XCTAssertEqual(d.train.count, 3)  // row 3 is a tie, row 4 has an empty chosen response
        XCTAssertEqual(d.report.count(.tie), 1)
        XCTAssertEqual(d.report.count(.emptyResponse), 1)
        XCTAssertEqual(d.train[0].prompt.messages, [ChatMessage(role: "user", content: "hi")])
        XCTAssertEqual(d.train[0].chosen, "hello there")
        XCTAssertEqual(d.train[0].rejected, "go away")
        XCTAssertEqual(d.train[1].prompt.messages.map(\.role), ["user", "assistant", "user"])
        XCTAssertEqual(d.train[1].prompt.messages.map(\.content), ["a", "b", "c"])
        // The chosen reply ran on with "Human:" inside its own turn: the prompt stops at the shared turn.
        XCTAssertEqual(d.train[2].prompt.messages.map(\.content), ["x"])
        XCTAssertEqual(d.train[2].chosen, "y  Human: more\n\nAssistant: z")
        XCTAssertEqual(d.train[0].prompt.source, "hh")
    }

    func testJSONLJSONArrayAndCSVGiveTheSamePairs() throws {
        let t = try TempCatalog()
        try t.entry("jl", pairEntry(TempCatalog.fixture("pairs.jsonl")))
        try t.entry("arr", pairEntry(TempCatalog.fixture("pairs.json")))
        try t.entry("csv", pairEntry(TempCatalog.fixture("pairs.csv")))
        let jl = try t.load("jl"), arr = try t.load("arr"), csv = try t.load("csv")
        XCTAssertEqual(jl.report.rowsRead, 22)
        XCTAssertEqual(jl.train.count, 20)
        XCTAssertEqual(jl.report.count(.duplicate), 2)
        XCTAssertEqual(arr.train.map(\.chosen), Array(jl.train.prefix(6)).map(\.chosen))
        XCTAssertEqual(csv.train.count, 3)
        XCTAssertEqual(csv.train[0].prompt.lastUserText, "What, exactly?")
        XCTAssertEqual(csv.train[0].chosen, "A \"quoted\" answer")
        XCTAssertEqual(csv.train[1].prompt.lastUserText, "multi\nline prompt")
        XCTAssertEqual(csv.train[2].rejected, "wrong")
    }

    func testMessageListsLastAssistantTurnIsTheResponse() throws {
        let t = try TempCatalog()
        try t.entry("msgs", """
            source: {path: "\(TempCatalog.fixture("messages.jsonl"))"}
            layout: pair
            fields: {chosen: chosen, rejected: rejected}
            """)
        let d = try t.load("msgs")
        XCTAssertEqual(d.train.count, 2)
        XCTAssertEqual(d.train[0].chosen, "hello")
        XCTAssertEqual(d.train[1].prompt.messages.count, 3)
        XCTAssertEqual(d.train[1].rejected, "five")
        // single_turn drops the 2-user-turn prompt.
        try t.entry("msgs1", """
            source: {path: "\(TempCatalog.fixture("messages.jsonl"))"}
            layout: pair
            fields: {chosen: chosen, rejected: rejected}
            filters: {single_turn: true}
            """)
        let one = try t.load("msgs1")
        XCTAssertEqual(one.train.count, 1)
        XCTAssertEqual(one.report.count(.multiTurn), 1)
    }

    func testHHStylePromptStringBecomesTurns() throws {
        let t = try TempCatalog()
        let row = #"{"prompt": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: again\n\nAssistant:", "chosen": "yes", "rejected": "no"}"#
        try t.entry("e", pairEntry(try t.data("p.jsonl", row + "\n")))
        let d = try t.load("e")
        XCTAssertEqual(d.train.first?.prompt.messages.map(\.role), ["user", "assistant", "user"])
        XCTAssertEqual(d.train.first?.prompt.lastUserText, "again")
    }

    func testLengthFiltersInCharsAndTokens() throws {
        let t = try TempCatalog()
        // "good answer 3.1" is 3 tokens and 15 characters; "question 3" is 2 tokens, 10 characters.
        try t.entry("tok", pairEntry(TempCatalog.fixture("pairs.jsonl"), "filters: {max_length: {unit: tokens, response: 2}}"))
        try t.entry("chr", pairEntry(TempCatalog.fixture("pairs.jsonl"), "filters: {max_length: {unit: chars, prompt: 9}}"))
        // Every pair is too long, so the entries keep nothing: an error that counts the drops.
        for name in ["tok", "chr"] {
            XCTAssertThrowsError(try t.load(name)) { XCTAssertTrue("\($0)".contains("keeps no rows: 22 read, skipped: 22 too_long"), "\($0)") }
        }
        try t.entry("ok", pairEntry(TempCatalog.fixture("pairs.jsonl"), "filters: {max_length: {unit: chars, prompt: 10, response: 15}}"))
        XCTAssertEqual(try t.load("ok").train.count, 20)
    }

    func testGSM8KPromptsAndVerifiableItems() throws {
        let t = try TempCatalog()
        try t.entry("gsm", """
            source: {path: "\(TempCatalog.fixture("gsm8k_small.jsonl"))"}
            layout: prompts
            fields: {prompt: question, answer: answer}
            answer_format: gsm8k
            """)
        let d = try t.load("gsm")
        XCTAssertEqual(d.prompts.count, 2)
        XCTAssertEqual(d.verifiable.map(\.answer), ["5", "1234"])
        XCTAssertEqual(d.report.count(.badAnswer), 1)
        XCTAssertEqual(d.report.skipped.first?.examples.first?.hasSuffix("gsm8k_small.jsonl:3: field 'answer' has no gsm8k answer (GSM8K ends with '#### <number>')"), true)
    }

    func testGSM8KAnswerExtraction() {
        XCTAssertEqual(GSM8K.referenceAnswer("so 9 * 2 = 18\n#### 18"), "18")
        XCTAssertEqual(GSM8K.referenceAnswer("#### -3"), "-3")
        XCTAssertEqual(GSM8K.extractAnswer(from: "She makes $1,234.50 in total."), "1234.5")
        XCTAssertEqual(GSM8K.extractAnswer(from: "First 3 then 4. #### 12\nextra 99"), "12")
        XCTAssertEqual(GSM8K.extractAnswer(from: "The answer is 18."), "18")
        XCTAssertNil(GSM8K.extractAnswer(from: "no numbers"))
        XCTAssertTrue(GSM8K.isCorrect(response: "... so the total is 18.00 dollars", answer: "18"))
        XCTAssertFalse(GSM8K.isCorrect(response: "I think 17", answer: "18"))
        XCTAssertTrue(AnswerFormat.exact.isCorrect(response: " B ", answer: "B"))
    }

    func testPromptSetsFromFileDatasetAndWeightedMix() throws {
        let t = try TempCatalog()
        try t.entry("pairs", pairEntry(TempCatalog.fixture("pairs.jsonl")))
        let c = try t.catalog()
        let text = try c.loadPrompts(PromptSetSpec(file: TempCatalog.fixture("prompts.txt")), seed: 1)
        XCTAssertEqual(text.map(\.lastUserText), ["first prompt", "second prompt", "third prompt"])
        XCTAssertEqual(text[0].source, "prompts")
        let jsonl = try c.loadPrompts(PromptSetSpec(file: TempCatalog.fixture("gsm8k_small.jsonl"), field: "question"), seed: 1)
        XCTAssertEqual(jsonl.count, 3)
        let fromData = try c.loadPrompts(PromptSetSpec(dataset: "pairs"), seed: 1)
        XCTAssertEqual(fromData.count, 10)  // 10 distinct prompts behind 20 pairs
        let mix = PromptSetSpec(mix: [PromptMixPart(weight: 2, prompts: PromptSetSpec(dataset: "pairs")),
                                      PromptMixPart(weight: 1, prompts: PromptSetSpec(file: TempCatalog.fixture("prompts.txt")))],
                                size: 8)
        let a = try c.loadPrompts(mix, seed: 5), b = try c.loadPrompts(mix, seed: 5)
        XCTAssertEqual(a, b)
        // 8 × 2/3 = 5.33 and 8 × 1/3 = 2.67: floors 5 + 2, the remainder to the larger fraction.
        XCTAssertEqual(a.filter { $0.source == "pairs" }.count, 5)
        XCTAssertEqual(a.filter { $0.source == "prompts" }.count, 3)
        XCTAssertEqual(dataAllocate(10, weights: [1, 1, 1]), [4, 3, 3])
        XCTAssertThrowsError(try c.loadPrompts(PromptSetSpec(file: TempCatalog.fixture("prompts.txt"), size: 4), seed: 1)) {
            XCTAssertTrue("\($0)".contains("asks 4 prompts, the source has 3"), "\($0)")
        }
    }

    func testInspectorRendersCountsHistogramsAndSkips() throws {
        let t = try TempCatalog()
        try t.entry("hh", """
            source: {path: "\(TempCatalog.fixture("hh_small.jsonl.gz"))"}
            layout: pair
            fields: {chosen: chosen, rejected: rejected}
            """)
        let text = DatasetInspector.render(try t.load("hh"), examples: 1)
        XCTAssertTrue(text.contains("rows read 5, kept 3: train 3, held-out 0"), text)
        XCTAssertTrue(text.contains("ties 1"), text)
        XCTAssertTrue(text.contains("empty_response 1 (malformed)"), text)
        XCTAssertTrue(text.contains("hh_small.jsonl.gz:4: chosen response is empty"), text)
        XCTAssertTrue(text.contains("chosen length (whitespace tokens)") || text.contains("chosen length"), text)
        XCTAssertTrue(text.contains("  2-3         ########################################"), text)
        XCTAssertTrue(text.contains("example 1:\n  [user] hi\n  chosen:   hello there"), text)
    }
}
