import Foundation
import XCTest
@testable import RecipeSpec

/// Deterministic mutation fuzzing of the recipe reader (issue 16): every checked-in fixture recipe,
/// mutated by a seeded generator (byte flips, YAML tokens such as anchors, aliases, tabs and brackets,
/// invalid UTF-8, cuts and splices), must load or fail with `RecipeErrors` — never crash, hang or
/// throw anything else. Bounded by time (`PREFLAB_FUZZ_SECONDS`, default 20) so CI stays fast;
/// a crash shows as the test process dying, with the seed and iteration printed before each batch.
final class RecipeFuzzTests: XCTestCase {
    func testMutatedRecipesNeverCrash() throws {
        let root = Fixtures.root
        let files = try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".yaml") }.sorted()
        let seeds = try files.map { try Data(contentsOf: URL(fileURLWithPath: root + "/" + $0)) }
        XCTAssertGreaterThan(seeds.count, 30)
        let seconds = Double(ProcessInfo.processInfo.environment["PREFLAB_FUZZ_SECONDS"] ?? "") ?? 20
        var fuzz = Mutator(seed: 16)
        let start = Date()
        var runs = 0, loaded = 0
        while Date().timeIntervalSince(start) < seconds {
            let input = fuzz.mutate(seeds[fuzz.next(seeds.count)], dictionary: Mutator.yamlTokens)
            let text = String(decoding: input, as: UTF8.self)
            do {
                _ = try TestCatalog.loader.load(yaml: text, file: "fuzz.yaml")
                loaded += 1
            } catch is RecipeErrors {
            } catch {
                XCTFail("run \(runs): \(type(of: error)) instead of RecipeErrors: \(error)\n--- input ---\n\(text)")
            }
            runs += 1
        }
        print("recipe fuzz: \(runs) inputs in \(String(format: "%.1f", Date().timeIntervalSince(start))) s, \(loaded) loaded, 0 crashes")
        XCTAssertGreaterThan(runs, 100)
    }

    /// The specific blow-ups the fuzzer is meant to keep away: nested aliases and deep nesting.
    func testAliasBombAndDeepNestingAreBounded() throws {
        var bomb = "name: m/bomb\nvars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...12 { bomb += "  a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        bomb += "stages:\n  policy: { kind: sft, task: t }\n"
        let start = Date()
        XCTAssertThrowsError(try TestCatalog.loader.load(yaml: bomb, file: "bomb.yaml")) { error in
            XCTAssertTrue("\(error)".contains("expands to more than"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        let deep = "name: m/deep\nvars:\n  x: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        XCTAssertThrowsError(try TestCatalog.loader.load(yaml: deep, file: "deep.yaml"))
    }
}

/// A seeded input mutator (SplitMix64), shared by the fuzz tests of this target.
struct Mutator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    static let yamlTokens: [String] = ["&a ", "*a", "*b", "<<: *a", "[", "]", "{", "}", ": ", "- ", "\t", "\n", "  ", "---\n",
                                       "\"", "'", "#", "${", "}", "${vars.", "!!binary ", "!!python/object ", "%YAML 1.1\n", "? ",
                                       "|\n", ">-\n", ".nan", ".inf", "-.inf", "9223372036854775807", "99999999999999999999",
                                       "0x", "1e999", "null", "~", "extends: ", "matrix:\n", "kind: ", "name: ../../x"]

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

    /// One to four random edits of `input`.
    mutating func mutate(_ input: Data, dictionary: [String]) -> Data {
        var b = [UInt8](input)
        for _ in 0...next(4) {
            let at = next(b.count + 1)
            switch next(7) {
            case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(1 << next(8))
            case 1: b.insert(contentsOf: Array(dictionary[next(dictionary.count)].utf8), at: at)
            case 2 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + 1 + next(16)))
            case 3: b.insert(contentsOf: [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0]][next(5)], at: at)
            case 4 where !b.isEmpty:
                let from = next(b.count), length = min(b.count - from, 1 + next(64))
                b.insert(contentsOf: Array(b[from..<from + length]), at: at)
            case 5: b = Array(b.prefix(at))
            default: b.insert(UInt8(truncatingIfNeeded: next()), at: at)
            }
        }
        return Data(b)
    }
}
