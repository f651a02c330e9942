import Foundation

/// Parsed records per file for the length of one catalogue operation (`validateAll`, a mixture), so
/// that entries sharing a source (AlpacaEval and its strength subsets) read and parse it once.
final class DataRecordCache: @unchecked Sendable {
    private var store: [String: (records: [DataRecord], problems: [DataRecordProblem])] = [:]
    private let lock = NSLock()

    /// The cached result for `key`, or `read()`'s result stored under it.
    func get(_ key: String, _ read: () throws -> (records: [DataRecord], problems: [DataRecordProblem]))
        rethrows -> (records: [DataRecord], problems: [DataRecordProblem]) {
        lock.lock()
        let hit = store[key]
        lock.unlock()
        if let hit { return hit }
        let value = try read()
        lock.lock()
        store[key] = value
        lock.unlock()
        return value
    }
}
