import Foundation
import XCTest
@testable import StageSpecs
import DataSpecs

/// A checkout with its data beside it must hash alike wherever the pair is placed: the CI clone and every
/// user's checkout find the same nodes as the machine that made the Results (before, a file outside the
/// project entered the fingerprint by its absolute path).
final class FingerprintPlacementTests: XCTestCase {
    func testFilesBesideTheProjectHashAlikeInAnotherPlace() throws {
        let fm = FileManager.default
        func place(_ name: String) throws -> (root: URL, data: URL) {
            let base = fm.temporaryDirectory.appendingPathComponent("preflab-fp-\(name)-\(UUID().uuidString)")
            let root = base.appendingPathComponent("repo"), data = base.appendingPathComponent("shared/data/x.jsonl")
            try fm.createDirectory(at: root, withIntermediateDirectories: true)
            try fm.createDirectory(at: data.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("{\"q\": 1}\n".utf8).write(to: data)
            return (root, data)
        }
        let a = try place("a"), b = try place("b")
        defer { for p in [a, b] { try? fm.removeItem(at: p.root.deletingLastPathComponent()) } }
        let fa = Fingerprints.fileFingerprint([a.data], root: a.root), fb = Fingerprints.fileFingerprint([b.data], root: b.root)
        XCTAssertEqual(fa, fb)
        try Data("{\"q\": 2}\n".utf8).write(to: b.data)
        XCTAssertNotEqual(fa, Fingerprints.fileFingerprint([b.data], root: b.root), "the content still counts")
        XCTAssertEqual(Fingerprints.relativePath("/w/repo/a/b", from: "/w/repo"), "a/b")
        XCTAssertEqual(Fingerprints.relativePath("/w/shared/d", from: "/w/repo"), "../shared/d")
    }
}

/// A data folder reached through a symbolic link fingerprints like the same folder in place: `..` steps are
/// removed by name, not by following the link (Foundation's `standardizedFileURL` followed it on Linux).
final class LexicalPathTests: XCTestCase {
    func testDotDotIsRemovedByNameThroughALink() throws {
        XCTAssertEqual(lexicallyNormalized("/a/b/../c/./d"), "/a/c/d")
        XCTAssertEqual(lexicallyNormalized("../x/../y"), "../y")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lexical-\(UUID().uuidString)")
        let real = dir.appendingPathComponent("elsewhere/data"), repo = dir.appendingPathComponent("box/repo")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("box/shared"), withDestinationURL: dir.appendingPathComponent("elsewhere"))
        let viaLink = lexicallyNormalized(repo.appendingPathComponent("../shared/data").path)
        XCTAssertEqual(Fingerprints.relativePath(viaLink, from: repo.path), "../shared/data")
    }
}
