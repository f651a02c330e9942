import Foundation

/// Reads and writes any `Codable` value as a JSON file (e.g. a model's `config.json`).
public enum ConfigJSON {
    /// Writes `value` as pretty, key-sorted JSON, atomically.
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw CheckpointError(file: url.path, problem: "cannot encode \(T.self): \(error)")
        }
        try AtomicFile.write(data + Data("\n".utf8), to: url)
    }

    /// Reads a `T` from a JSON file; errors name the file and the offending key path.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError(file: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw CheckpointError(file: url.path, problem: "not a valid \(T.self): \(describe(error))")
        } catch {
            throw CheckpointError(file: url.path, problem: "not a valid \(T.self): \(error)")
        }
    }

    /// A one-line account of a decoding error: the key path and what was wrong there.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, ctx): return "missing key \"\(key.stringValue)\" at \(path(ctx.codingPath))"
        case let .typeMismatch(type, ctx): return "expected \(type) at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        case let .valueNotFound(type, ctx): return "expected \(type) at \(path(ctx.codingPath)), found null"
        case let .dataCorrupted(ctx): return "\(ctx.debugDescription) at \(path(ctx.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}
