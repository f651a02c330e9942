import XCTest
@testable import Preference

/// Seeded downsampling, prompt-disjoint held-out splits, deduplication and mixtures, with exact sizes.
final class DataTestsSampling: XCTestCase {
    func testHeldOutSplitIsByPromptAndDisjoint() throws {
        let t = try TempCatalog()
        try t.entry("split", pairEntry(TempCatalog.fixture("pairs.jsonl"), "held_out: {fraction: 0.2}"))
        let d = try t.load("split")
        XCTAssertEqual(d.heldOut.count, 4)  // 2 of 10 prompts, 2 pairs each
        XCTAssertEqual(d.train.count, 16)
        let heldPrompts = Set(d.heldOut.map(\.prompt)), trainPrompts = Set(d.train.map(\.prompt))
        XCTAssertEqual(heldPrompts.count, 2)
        XCTAssertEqual(trainPrompts.count, 8)
        XCTAssertTrue(heldPrompts.isDisjoint(with: trainPrompts))
        XCTAssertEqual(try t.load("split").heldOut, d.heldOut)
        let other = try (0..<8).map { try t.load("split", seed: UInt64($0)).heldOut }
        XCTAssertGreaterThan(Set(other.map { $0.map(\.chosen) }).count, 1)
    }

    func testDownsamplingIsSeededAndExact() throws {
        let t = try TempCatalog()
        try t.entry("s", pairEntry(TempCatalog.fixture("pairs.jsonl"), "sample: 5\nheld_out: {count: 3}"))
        let a = try t.load("s", seed: 11), b = try t.load("s", seed: 11), c = try t.load("s", seed: 12)
        XCTAssertEqual(a.train.count, 5)
        XCTAssertEqual(a.heldOut.count, 6)
        XCTAssertEqual(a.report.downsampledFrom, 14)
        XCTAssertEqual(a.train, b.train)
        XCTAssertNotEqual(a.train.map(\.chosen) + a.heldOut.map(\.chosen), c.train.map(\.chosen) + c.heldOut.map(\.chosen))
        // The held-out split does not depend on sampling, and sampled pairs keep file order.
        try t.entry("full", pairEntry(TempCatalog.fixture("pairs.jsonl"), "held_out: {count: 3}"))
        let full = try t.load("full", seed: 11)
        XCTAssertEqual(full.heldOut.map(\.chosen), a.heldOut.map(\.chosen))
        let order = a.train.compactMap { p in full.train.firstIndex { $0.chosen == p.chosen } }
        XCTAssertEqual(order.count, 5)
        XCTAssertEqual(order, order.sorted())
        XCTAssertEqual(dataSampledIndices(10, 4, seed: 1), dataSampledIndices(10, 4, seed: 1))
        XCTAssertEqual(Set(dataSampledIndices(10, 10, seed: 1)), Set(0..<10))
    }

    func testDeduplicationCountsRepeats() throws {
        let t = try TempCatalog()
        try t.entry("dedup", pairEntry(TempCatalog.fixture("pairs.jsonl")))
        try t.entry("keep", pairEntry(TempCatalog.fixture("pairs.jsonl"), "dedup: false"))
        let d = try t.load("dedup")
        XCTAssertEqual(d.train.count, 20)
        XCTAssertEqual(d.report.count(.duplicate), 2)
        XCTAssertTrue(d.report.skipped[0].examples[0].hasSuffix("pairs.jsonl:21: same prompt, chosen and rejected as an earlier pair"))
        XCTAssertEqual(try t.load("keep").train.count, 22)
    }

    func testMixtureTakesExactSizesAndKeepsHeldOutApart() throws {
        let t = try TempCatalog()
        try t.entry("jl", pairEntry(TempCatalog.fixture("pairs.jsonl"), "held_out: {count: 2}"))
        try t.entry("jl_all", pairEntry(TempCatalog.fixture("pairs.jsonl")))
        try t.entry("csv", pairEntry(TempCatalog.fixture("pairs.csv")))
        try t.entry("mix", "mixture:\n  - {dataset: jl, size: 5}\n  - {dataset: csv, size: 2}\n")
        let m = try t.load("mix")
        XCTAssertEqual(m.train.count, 7)
        XCTAssertEqual(m.heldOut.count, 4)
        XCTAssertEqual(m.train.filter { $0.prompt.source == "jl" }.count, 5)
        XCTAssertEqual(m.train.filter { $0.prompt.source == "csv" }.count, 2)
        XCTAssertEqual(m.report.rowsRead, 22 + 3)
        XCTAssertEqual(m.report.notes.first, "jl: 5 of 16 train pairs, 4 held-out")
        XCTAssertEqual(try t.load("mix").train, m.train)
        // The same pairs through a second component: held-out prompts and repeats are removed.
        try t.entry("overlap", "mixture:\n  - {dataset: jl}\n  - {dataset: jl_all, size: all}\n")
        let o = try t.load("overlap")
        XCTAssertEqual(o.train.count, 16)
        XCTAssertEqual(o.heldOut.count, 4)
        XCTAssertEqual(o.report.count(.heldOutOverlap), 4)
        XCTAssertTrue(Set(o.train.map(\.prompt)).isDisjoint(with: Set(o.heldOut.map(\.prompt))))
    }

    func testMixtureErrors() throws {
        let t = try TempCatalog()
        try t.entry("csv", pairEntry(TempCatalog.fixture("pairs.csv")))
        try t.entry("big", "mixture:\n  - {dataset: csv, size: 4}\n")
        try t.entry("typo", "mixture:\n  - {dataset: cvs, size: 1}\n")
        try t.entry("a", "mixture:\n  - {dataset: b, size: 1}\n")
        try t.entry("b", "mixture:\n  - {dataset: a, size: 1}\n")
        let c = try t.catalog()
        XCTAssertThrowsError(try c.load("big", seed: 1)) {
            XCTAssertEqual("\($0)", "big.yaml: mixture asks 4 train pairs of 'csv', which has 3")
        }
        XCTAssertThrowsError(try c.load("typo", seed: 1)) {
            XCTAssertEqual("\($0)", "typo.yaml: mixture component 'cvs' is not in the catalogue (did you mean 'csv'?)")
        }
        XCTAssertThrowsError(try c.load("a", seed: 1)) {
            XCTAssertEqual("\($0)", "b.yaml: mixture cycle: a → b → a")
        }
    }
}
