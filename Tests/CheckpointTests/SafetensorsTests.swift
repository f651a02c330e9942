import Foundation
import Tensor
import XCTest
@testable import Checkpoint

/// A fresh temporary directory, removed by the caller's `defer`.
func makeTempDir(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

final class SafetensorsTests: XCTestCase {
    func testRoundTripKeepsValuesShapesAndMetadata() throws {
        let dir = try makeTempDir("st")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tensors: [String: Tensor] = [
            "model.embed_tokens.weight": Tensor(shape: [3, 2], data: [1, -2, 3.5, 0, -0.0, 1e-30]),
            "scalar": Tensor(shape: [], data: [42]),
            "empty": Tensor(shape: [0, 4], data: []),
            "w": Tensor(shape: [2, 1, 3], data: [.pi, -.infinity, 7, 8, 9, .greatestFiniteMagnitude]),
        ]
        let url = dir.appendingPathComponent("model.safetensors")
        try Safetensors.write(tensors, metadata: ["format": "pt", "step": "12"], to: url)
        let (back, meta) = try Safetensors.load(url)
        XCTAssertEqual(back, tensors)
        XCTAssertEqual(meta, ["format": "pt", "step": "12"])

        // Layout: u64 header length, a JSON header padded to 8 bytes, then 4 bytes per value.
        let bytes = try Data(contentsOf: url)
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(bytes.count, 8 + n + 4 * (6 + 1 + 0 + 6))
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<8 + n)) as? [String: Any]
        let entry = header?["model.embed_tokens.weight"] as? [String: Any]
        XCTAssertEqual(entry?["dtype"] as? String, "F32")
        XCTAssertEqual(entry?["shape"] as? [Int], [3, 2])
    }

    func testOverwriteIsAtomicAndLeavesNoTemporaryFiles() throws {
        let dir = try makeTempDir("st-atomic")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.safetensors")
        try Safetensors.write(["x": Tensor(shape: [1], data: [1])], to: url)
        try Safetensors.write(["x": Tensor(shape: [2], data: [2, 3])], to: url)
        XCTAssertEqual(try Safetensors.read(url)["x"]?.data, [2, 3])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.safetensors"])
    }

    /// A safetensors file built by hand from a header and raw data bytes.
    func handMade(_ header: String, _ data: [UInt8], in dir: URL, name: String = "h.safetensors", length: UInt64? = nil) throws -> URL {
        let h = Array(header.utf8)
        let url = dir.appendingPathComponent(name)
        try Data(GGUFTestWriter.le(length ?? UInt64(h.count)) + h + data).write(to: url)
        return url
    }

    func testReadsHalfBFloatAndDoubleAsFloat() throws {
        let dir = try makeTempDir("st-half")
        defer { try? FileManager.default.removeItem(at: dir) }
        // F16: 1.0, -2.5, 65504, 2^-24 (smallest subnormal); BF16: 1.5, -0.15625; F64: 0.1.
        let f16: [UInt16] = [0x3C00, 0xC100, 0x7BFF, 0x0001]
        let bf16: [UInt16] = [0x3FC0, 0xBE20]
        let data = f16.flatMap { GGUFTestWriter.le($0) } + bf16.flatMap { GGUFTestWriter.le($0) } + GGUFTestWriter.le((0.1 as Double).bitPattern)
        let header = """
        {"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},\
        "c":{"dtype":"F64","shape":[1],"data_offsets":[12,20]},"__metadata__":{"k":"v"}}
        """
        let t = try Safetensors.read(try handMade(header, data, in: dir))
        XCTAssertEqual(t["a"], Tensor(shape: [2, 2], data: [1, -2.5, 65504, 0x1p-24]))
        XCTAssertEqual(t["b"]?.data, [1.5, -0.15625])
        XCTAssertEqual(t["c"]?.data, [Float(0.1)])
    }

    func testMalformedFilesGiveErrorsNamingFileAndProblem() throws {
        let dir = try makeTempDir("st-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        func expect(_ url: URL, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try Safetensors.read(url), line: line) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(url.lastPathComponent) && text.contains(fragment), text, line: line)
            }
        }
        let short = dir.appendingPathComponent("short.safetensors")
        try Data([1, 2, 3]).write(to: short)
        expect(short, "shorter than the 8-byte header length")
        expect(try handMade("{}", [], in: dir, name: "len.safetensors", length: 1 << 40), "header length")
        expect(try handMade("{not json", [], in: dir, name: "json.safetensors"), "not a JSON object")
        expect(try handMade(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, [0, 0, 0, 0], in: dir, name: "range.safetensors"),
               "run past the 4 data bytes")
        expect(try handMade(#"{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, [0], in: dir, name: "dtype.safetensors"),
               "unknown or unsupported dtype \"I8\"")
        expect(try handMade(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, [UInt8](repeating: 0, count: 8), in: dir, name: "size.safetensors"),
               "8 bytes for shape [3] of F32 (expected 12)")
        expect(try handMade(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, [], in: dir, name: "shape.safetensors"),
               "not a list of non-negative integers")
        expect(try handMade(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, [], in: dir, name: "huge.safetensors"),
               "more values than can be addressed")
        expect(try handMade(#"{"a":{"dtype":"F32"}}"#, [], in: dir, name: "entry.safetensors"), "needs \"dtype\", \"shape\" and \"data_offsets\"")
        expect(dir.appendingPathComponent("absent.safetensors"), "cannot read")
    }

    func testHalfFloatConversionsAreExactInverses() {
        for h in 0...UInt16.max {
            let f = HalfFloat.f16ToFloat(h)
            if f.isNaN { continue }
            XCTAssertEqual(HalfFloat.floatToF16(f), h, "0x\(String(h, radix: 16))")
        }
        XCTAssertEqual(HalfFloat.f16ToFloat(0x7C00), .infinity)
        XCTAssertEqual(HalfFloat.f16ToFloat(0x8000).sign, .minus)
        XCTAssertEqual(HalfFloat.floatToF16(1 + 0x1p-11), 0x3C00)  // a tie rounds to even
        XCTAssertEqual(HalfFloat.floatToF16(1e6), 0x7C00)
    }
}
