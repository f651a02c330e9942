import XCTest
@testable import Preference

/// Catalogue YAML mistakes give file:line:column and say what was expected.
final class DataTestsCatalogYAML: XCTestCase {
    func error(_ yaml: String) throws -> String {
        let t = try TempCatalog()
        try t.entry("bad", yaml)
        do {
            _ = try t.load("bad")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testUnknownKeySuggestsTheNearestOne() throws {
        let msg = try error("source: {path: x.jsonl}\nlayout: pair\nfields: {chosen: c, rejected: r}\nfitlers: {drop_ties: true}\n")
        XCTAssertTrue(msg.hasPrefix("bad.yaml:4:1: unknown key 'fitlers' in a catalogue entry (did you mean 'filters'?)"), msg)
        let nested = try error("source: {path: x.jsonl, formt: csv}\nlayout: pair\nfields: {chosen: c, rejected: r}\n")
        XCTAssertTrue(nested.hasPrefix("bad.yaml:1:25: unknown key 'formt' in source (did you mean 'format'?)"), nested)
    }

    func testWrongTypes() throws {
        let sample = try error("source: {path: x.jsonl}\nlayout: pair\nfields: {chosen: c, rejected: r}\nsample: many\n")
        XCTAssertEqual(sample, "bad.yaml:4:9: sample must be an integer, found 'many'")
        let fields = try error("source: {path: x.jsonl}\nlayout: pair\nfields: [chosen, rejected]\n")
        XCTAssertEqual(fields, "bad.yaml:3:9: fields must be a mapping, found a list")
        let flag = try error("source: {path: x.jsonl}\nlayout: pair\nfields: {chosen: c, rejected: r}\ndedup: sometimes\n")
        XCTAssertEqual(flag, "bad.yaml:4:8: dedup must be true or false, found 'sometimes'")
    }

    func testMissingPartsAndBadChoices() throws {
        XCTAssertEqual(try error("layout: pair\nfields: {chosen: c, rejected: r}\n"),
                       "bad.yaml:1:1: missing 'source': where are the rows? (or give 'mixture')")
        XCTAssertEqual(try error("source: {path: x.jsonl}\nlayout: pairs\nfields: {chosen: c, rejected: r}\n"),
                       "bad.yaml:2:9: layout must be one of pair, rated, rated_rows, prompts, found 'pairs' (did you mean 'pair'?)")
        XCTAssertEqual(try error("source: {path: x.jsonl}\nlayout: pair\nfields: {chosen: c}\n"),
                       "bad.yaml:3:9: layout pair needs fields.rejected")
        XCTAssertEqual(try error("source: {format: csv}\nlayout: pair\nfields: {chosen: c, rejected: r}\n"),
                       "bad.yaml:1:9: source needs 'path' (a file or folder)")
        XCTAssertEqual(try error("source: {path: x}\nlayout: rated\nfields: {prompt: p, responses: rs, response: r, overall: o}\n"
                                 + "binarize: {strategy: fine_grained_mean}\n"),
                       "bad.yaml:4:22: fine_grained_mean needs fields.aspects")
        XCTAssertEqual(try error("source: {path: x}\nlayout: rated\nfields: {prompt: p, responses: rs, response: r, overall: o}\n"
                                 + "binarize: {generator_groups: 3, generator_group: middel}\n"),
                       "bad.yaml:4:50: binarize.generator_group must be one of top, middle, bottom, found 'middel' (did you mean 'middle'?)")
        XCTAssertEqual(try error("source: {path: x}\nlayout: pair\nfields: {chosen: c, rejected: r}\nheld_out: {fraction: 1.5}\n"),
                       "bad.yaml:4:22: held_out.fraction must be in [0, 1)")
    }

    func testYAMLSyntaxErrorHasAPosition() throws {
        let msg = try error("source: {path: x\nlayout: pair\n")
        XCTAssertTrue(msg.hasPrefix("bad.yaml:"), msg)
        XCTAssertTrue(msg.contains("YAML syntax error"), msg)
    }

    func testBrokenEntryDoesNotHideTheOthers() throws {
        let t = try TempCatalog()
        try t.entry("good", pairEntry(TempCatalog.fixture("pairs.csv")))
        try t.entry("bad", "layout: pair\n")
        let c = try t.catalog()
        XCTAssertEqual(c.names, ["bad", "good"])
        let results = c.validateAll(seed: 1)
        XCTAssertEqual(results.map(\.name), ["bad", "good"])
        guard case .failure(let e) = results[0].result, case .success(let r) = results[1].result else {
            return XCTFail("expected bad to fail and good to load")
        }
        XCTAssertEqual(e.line, 1)
        XCTAssertEqual(r.kept, 3)
        XCTAssertThrowsError(try c.load("god", seed: 1)) {
            XCTAssertTrue("\($0)".hasSuffix("no dataset 'god' in the catalogue (did you mean 'good'?)"), "\($0)")
        }
    }

    func testPathsRelativeToRootOrToTheYAMLFile() throws {
        let t = try TempCatalog()
        let recipes = t.dir.appendingPathComponent("Recipes/datasets")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        try t.data("root.jsonl", #"{"prompt": "p", "chosen": "c", "rejected": "r"}"# + "\n")
        try Data(#"{"prompt": "q", "chosen": "c", "rejected": "r"}"#.utf8).write(to: recipes.appendingPathComponent("local.jsonl"))
        try pairEntry("root.jsonl").write(to: recipes.appendingPathComponent("by_root.yaml"), atomically: true, encoding: .utf8)
        try pairEntry("local.jsonl", source: "relative_to: file")
            .write(to: recipes.appendingPathComponent("by_file.yaml"), atomically: true, encoding: .utf8)
        // The root defaults to two levels above Recipes/datasets.
        let c = try DatasetCatalog(directory: recipes)
        XCTAssertEqual(c.root.path, t.dir.standardizedFileURL.path)
        XCTAssertEqual(try c.load("by_root", seed: 1).train.first?.prompt.lastUserText, "p")
        XCTAssertEqual(try c.load("by_file", seed: 1).train.first?.prompt.lastUserText, "q")
    }
}
