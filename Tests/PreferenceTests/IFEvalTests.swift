import Foundation
import XCTest
@testable import Preference

/// IFEval against Google's reference checker: Fixtures/IFEval/golden.jsonl.gz holds responses made by
/// scripts/ifeval_golden.py and the reference's strict and loose verdicts for each instruction.
final class IFEvalTests: XCTestCase {
    struct GoldenRow {
        let key: Int, index: Int, kind: String
        let item: IFEvalItem
        let response: String
        let strict: [Bool], loose: [Bool], unstable: [Bool]
    }

    static func golden() throws -> [GoldenRow] {
        let url = Bundle.module.url(forResource: "Fixtures/IFEval/golden.jsonl", withExtension: "gz")!
        let (data, problem) = DataGzip.inflate(try Data(contentsOf: url))
        XCTAssertNil(problem)
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let key = o["key"] as! Int
            let item = try IFEvalItem(key: key, prompt: "", instructionIds: o["instruction_id_list"] as! [String],
                                      kwargs: o["kwargs"] as! [[String: Any]], location: "golden key \(key)")
            return GoldenRow(key: key, index: o["index"] as! Int, kind: o["kind"] as! String, item: item,
                             response: o["response"] as! String, strict: o["strict"] as! [Bool],
                             loose: o["loose"] as! [Bool], unstable: o["unstable"] as! [Bool])
        }
    }

    /// Loaded and scored once for the tests below (about 1,750 responses).
    static let rows: [GoldenRow] = try! golden()
    static let scored: [IFEvalResult] = rows.map { IFEval.score($0.item, $0.response) }

    /// Verdicts that are random in the reference itself, listed as key/response index/instruction index.
    /// All three are `keywords:letter_frequency` with the letter `"#"` (keys 1122 and 1129 of the data):
    /// the reference accepts only a-z and replaces anything else by `random.choice(string.ascii_letters)`
    /// from Python's global generator, anew in each check; the golden file's strict and loose runs drew
    /// different letters (1129/1: strict true but loose false). Swift draws from a seeded generator.
    static let knownExceptions: Set<String> = ["1122/0/1", "1122/2/1", "1129/1/0"]

    /// Every instruction verdict of every golden response agrees with the reference, strict and loose.
    func testAgreesWithReferenceOnGoldenResponses() throws {
        let rows = Self.rows
        XCTAssertGreaterThan(rows.count, 3 * 541)
        var disagreements: [String] = []
        var verdicts = 0, seen = Set<String>()
        for (r, got) in zip(rows, Self.scored) {
            for j in r.strict.indices {
                verdicts += 1
                seen.insert(r.item.instructionIds[j])
                let id = "\(r.key)/\(r.index)/\(j)"
                guard got.strict[j] != r.strict[j] || got.loose[j] != r.loose[j] else { continue }
                if Self.knownExceptions.contains(id) {
                    XCTAssertTrue(r.unstable[j], "\(id) is listed as random in the reference but the golden run did not vary")
                    continue
                }
                disagreements.append("\(id) \(r.item.instructionIds[j]) [\(r.kind)] strict \(got.strict[j]) vs \(r.strict[j]), "
                                     + "loose \(got.loose[j]) vs \(r.loose[j])\(r.unstable[j] ? " (reference unstable)" : ""): "
                                     + String(reflecting: String(r.response.prefix(160))))
            }
        }
        XCTAssertEqual(seen.count, 25, "every instruction id is exercised")
        XCTAssertEqual(disagreements, [], "\(disagreements.count) of \(verdicts) verdicts disagree")
    }

    /// The checker's report on the golden responses, by kind, equals the reference's verdicts summarised.
    func testSummaryOfGoldenResponses() throws {
        let pairs = Array(zip(Self.rows, Self.scored))
        for kind in ["follow", "break", "noisy", "tricky", "all"] {
            let sel = pairs.filter { kind == "all" || $0.0.kind == kind }
            let ours = IFEval.summary(sel.map(\.1))
            // The reference's verdicts, with its random letter draws (knownExceptions) replaced by ours.
            let reference = IFEval.summary(sel.map { r, got in
                IFEvalResult(key: r.key, strict: r.strict.indices.map { Self.isException(r, $0) ? got.strict[$0] : r.strict[$0] },
                             loose: r.loose.indices.map { Self.isException(r, $0) ? got.loose[$0] : r.loose[$0] })
            })
            print(String(format: "IFEval golden %@: %d responses, %d instructions; prompt strict %.4f ± %.4f, loose %.4f ± %.4f; "
                         + "instruction strict %.4f, loose %.4f", kind, ours.prompts, ours.instructions, ours.promptStrict,
                         ours.promptStrictStandardError, ours.promptLoose, ours.promptLooseStandardError,
                         ours.instructionStrict, ours.instructionLoose))
            XCTAssertEqual(ours, reference, kind)
        }
    }

    static func isException(_ r: GoldenRow, _ j: Int) -> Bool { knownExceptions.contains("\(r.key)/\(r.index)/\(j)") }

    /// Both verdicts occur for every instruction id, so no check passes by always answering the same.
    func testGoldenExercisesBothOutcomes() throws {
        var outcomes: [String: Set<Bool>] = [:]
        for r in Self.rows {
            for (j, id) in r.item.instructionIds.enumerated() { outcomes[id, default: []].insert(r.strict[j]) }
        }
        for (id, seen) in outcomes { XCTAssertEqual(seen, [true, false], id) }
    }

    func testLoadsTheRealData() throws {
        let url = DataTestsRealData.repoRoot.appendingPathComponent("../shared/data/ifeval/input_data.jsonl").standardizedFileURL
        var found = url
        var dir = DataTestsRealData.repoRoot
        for _ in 0..<3 where !FileManager.default.fileExists(atPath: found.path) {
            dir = dir.deletingLastPathComponent()
            found = dir.appendingPathComponent("../shared/data/ifeval/input_data.jsonl").standardizedFileURL
        }
        guard FileManager.default.fileExists(atPath: found.path) else { throw XCTSkip("../shared/data/ifeval is absent") }
        let items = try IFEval.load(found)
        XCTAssertEqual(items.count, 541)
        // The benchmark adapter the `ifeval` stage runs: a seeded sample, scored and summarised.
        let bench = IFEvalBenchmark(file: found, selection: BenchmarkSelection(limit: 4, seed: 1))
        let chosen = try bench.items()
        XCTAssertEqual(chosen.count, 4)
        let scored = try bench.score(chosen, responses: chosen.map { _ in "" })
        let summary = bench.summarize(scored)
        XCTAssertEqual(summary["score"], Double(scored.filter { $0.score == 1 }.count) / 4)
        let total = chosen.reduce(0) { $0 + $1.instructionIds.count }
        let strict = zip(chosen, scored).reduce(0) { $0 + IFEval.score($1.0, "").strict.filter { $0 }.count }
        XCTAssertEqual(summary["instruction_strict"], Double(strict) / Double(total))
        XCTAssertEqual(items.reduce(0) { $0 + $1.instructionIds.count }, 834)
        XCTAssertEqual(Set(items.flatMap(\.instructionIds)).count, 25)
    }

    func testSummaryMeansAndStandardError() {
        let results = [
            IFEvalResult(key: 1, strict: [true, true], loose: [true, true]),
            IFEvalResult(key: 2, strict: [true, false], loose: [true, true]),
            IFEvalResult(key: 3, strict: [false], loose: [true]),
            IFEvalResult(key: 4, strict: [false, false], loose: [false, true]),
        ]
        let m = IFEval.summary(results)
        XCTAssertEqual(m.prompts, 4)
        XCTAssertEqual(m.instructions, 7)
        XCTAssertEqual(m.promptStrict, 0.25)
        XCTAssertEqual(m.promptLoose, 0.75)
        XCTAssertEqual(m.instructionStrict, 3.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(m.instructionLoose, 6.0 / 7, accuracy: 1e-12)
        // Sample variance of (1,0,0,0) is 0.25; SE = sqrt(0.25 / 4).
        XCTAssertEqual(m.promptStrictStandardError, 0.25, accuracy: 1e-12)
    }

    func testBadInputGivesClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ifeval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func error(_ text: String) -> String {
            let url = dir.appendingPathComponent("in.jsonl")
            try? text.write(to: url, atomically: true, encoding: .utf8)
            do { _ = try IFEval.load(url); return "no error" } catch { return "\(error)" }
        }
        let ok = #"{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}"#
        XCTAssertTrue(error(ok + "\n{oops").contains("in.jsonl:2:1: not a JSON object"))
        XCTAssertTrue(error(#"{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_commas"], "kwargs": [{}]}"#)
            .contains(#"did you mean "punctuation:no_comma""#))
        XCTAssertTrue(error(#"{"key": 1, "prompt": "p", "instruction_id_list": ["keywords:frequency"], "kwargs": [{"keyword": "a", "frequency": 2, "relation": "at most"}]}"#)
            .contains(#"kwargs.relation of keywords:frequency: expected "less than" or "at least""#))
        XCTAssertTrue(error(#"{"key": 1, "prompt": "p", "instruction_id_list": ["keywords:existence"], "kwargs": []}"#)
            .contains("has 1 ids but kwargs has 0"))
        XCTAssertTrue(error(ok + "\n" + ok).contains("key 1 appears twice"))
        XCTAssertTrue(error("").contains("no items"))
        do { _ = try IFEval.load(dir.appendingPathComponent("missing.jsonl")); XCTFail() } catch {
            XCTAssertTrue("\(error)".contains("cannot read"))
        }
    }

    /// Hand-checked behaviours that the reference's Python semantics fix (not reachable by random text).
    func testPythonSemantics() {
        // Python's `\w` has no combining marks: the virama and vowel sign split "नमस्ते" into two words.
        XCTAssertEqual(IFEvalText.countWords("don't stop-me now_ok ٣٤ नमस्ते"), 8)
        XCTAssertEqual(IFEvalPunkt.english.sentences("Mr. Smith went to Washington. He arrived at 5 p.m. Then he left... OK? Yes!"),
                       ["Mr. Smith went to Washington.", "He arrived at 5 p.m. Then he left... OK?", "Yes!"])
        XCTAssertEqual(IFEvalWordTokenizer.wordTokenize("I DON'T know. THE U.S.A. is big, isn't it?"),
                       ["I", "DO", "N'T", "know", ".", "THE", "U.S.A.", "is", "big", ",", "is", "n't", "it", "?"])
        XCTAssertTrue(IFEvalJSON.isValid("[NaN, -Infinity, \"\\ud800\"]"))
        XCTAssertFalse(IFEvalJSON.isValid("{\"a\": 1,}"))
        XCTAssertFalse(IFEvalJSON.isValid("\"tab\tinside\""))
        XCTAssertTrue(PyStr.isUpper("ABC 123 !"))
        XCTAssertFalse(PyStr.isUpper("123"))
    }
}
