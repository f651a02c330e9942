import XCTest
@testable import Pipeline

/// The Student-t code against mpmath (Golden/student_t.csv, made by scripts/verdicts_golden.py)
/// and against textbook table values.
final class VerdictStatsTests: XCTestCase {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/student_t.csv")

    func rows() throws -> [[String]] {
        try String(contentsOf: Self.golden, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func testDistributionMatchesMpmath() throws {
        var checked = 0
        for r in try rows() where r[0] != "test" {
            let (x, df, want) = (Double(r[1])!, Double(r[2])!, Double(r[3])!)
            let got: Double
            switch r[0] {
            case "two_sided_p": got = StudentT.twoSidedP(x, df: df)
            case "cdf": got = StudentT.cdf(x, df: df)
            case "quantile": got = StudentT.quantile(x, df: df)
            default: XCTFail("unknown golden row \(r)"); continue
            }
            XCTAssertEqual(got, want, accuracy: 1e-10 * max(1, abs(want)), "\(r[0]) \(x) df \(df)")
            checked += 1
        }
        XCTAssertEqual(checked, 170)
    }

    func testTestsMatchMpmath() throws {
        let tests = try rows().filter { $0[0] == "test" }
        XCTAssertEqual(tests.count, 5)
        for r in tests {
            let a = r[2].split(separator: " ").map { Double($0)! }, b = r[3].split(separator: " ").map { Double($0)! }
            let c: Comparison
            switch r[1] {
            case "welch": c = SeedTests.welch(a, b, level: 0.95)
            case "paired": c = SeedTests.paired(a, b, level: 0.95)
            default: c = SeedTests.oneSample(a, against: b[0], level: 0.95)
            }
            let want = r[4...].map { Double($0)! }
            let got = [c.difference, c.standardError, c.t, c.df, c.p, c.low, c.high]
            for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-9 * max(1, abs(w)), "\(r[1]) \(a) \(b)") }
        }
    }

    /// Two-sided 5 % critical values from any t table.
    func testTextbookCriticalValues() {
        for (df, t) in [(1.0, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (10, 2.228), (30, 2.042)] {
            XCTAssertEqual(StudentT.quantile(0.975, df: df), t, accuracy: 0.0005)
            XCTAssertEqual(StudentT.twoSidedP(t, df: df), 0.05, accuracy: 0.0002)
        }
    }

    func testConstantArms() {
        let same = SeedTests.welch([1, 1, 1], [1, 1], level: 0.95)
        XCTAssertEqual(same.p, 1)
        XCTAssertEqual(same.t, 0)
        let apart = SeedTests.welch([2, 2], [1, 1, 1], level: 0.95)
        XCTAssertEqual(apart.p, 0)
        XCTAssertEqual(apart.t, .infinity)
        XCTAssertEqual(apart.low, 1)
    }
}
