import XCTest
@testable import Preference

/// The answer extraction and classifiers agree with the reference implementations on the committed
/// golden files (scripts/benchmarks/make_golden.py: 200 made-up outputs each, labelled by the references' rules).
final class BenchmarkGoldenTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/benchmarks")

    func rows(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: Self.dir.appendingPathComponent(name), encoding: .utf8)
        let rows = try text.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(rows.count, 200)
        return rows
    }

    func testGSM8KAgreesWithOpenInstructAndLMEvalOnAll200() throws {
        var disagreements: [String] = []
        for r in try rows("gsm8k_golden.jsonl") {
            let out = r["output"] as! String, target = r["target"] as! String
            let oi = GSM8KAnswer.lastNumber(out), strict = GSM8KAnswer.lmEvalStrict(out), flex = GSM8KAnswer.lmEvalFlexible(out)
            func flag(_ key: String) -> String { "\((r[key] as? NSNumber)?.boolValue ?? false)" }
            let got: [(String, String, String)] = [
                ("open_instruct", oi, r["open_instruct"] as! String),
                ("open_instruct_correct", "\(ExactMatch.matches(oi, target))", flag("open_instruct_correct")),
                ("lm_eval_strict", strict, r["lm_eval_strict"] as! String),
                ("lm_eval_strict_correct", "\(GSM8KAnswer.lmEvalMatches(strict, target))", flag("lm_eval_strict_correct")),
                ("lm_eval_flexible", flex, r["lm_eval_flexible"] as! String),
                ("lm_eval_flexible_correct", "\(GSM8KAnswer.lmEvalMatches(flex, target))", flag("lm_eval_flexible_correct")),
            ]
            for (key, mine, theirs) in got where !mine.unicodeScalars.elementsEqual(theirs.unicodeScalars) {
                disagreements.append("\(key) on \(out.debugDescription): \(mine) vs reference \(theirs)")
            }
        }
        XCTAssertEqual(disagreements, [])
    }

    func testBBHAgreesWithTheReferenceOnAll200() throws {
        for r in try rows("bbh_golden.jsonl") {
            let out = r["output"] as! String
            let p = BBHAnswer.extract(out)
            XCTAssertEqual(p, r["prediction"] as? String, out.debugDescription)
            XCTAssertEqual(ExactMatch.matches(p, r["target"] as! String), (r["correct"] as? NSNumber)?.boolValue, out.debugDescription)
        }
    }

    func testXSTestClassifierAgreesWithTheReferenceOnAll200() throws {
        for r in try rows("xstest_golden.jsonl") {
            let c = r["completion"] as! String
            XCTAssertEqual(XSTestClassifier.label(c), r["label"] as? String, c.debugDescription)
        }
    }

    /// The files exercise both outcomes, so agreement is not agreement on a constant.
    func testGoldenFilesCoverBothOutcomes() throws {
        let g = try rows("gsm8k_golden.jsonl").map { ($0["open_instruct_correct"] as! NSNumber).boolValue }
        XCTAssert(g.contains(true) && g.contains(false))
        let x = try rows("xstest_golden.jsonl").map { $0["label"] as! String }
        XCTAssertEqual(Set(x), [XSTestClassifier.refusal, XSTestClassifier.compliance])
    }
}
