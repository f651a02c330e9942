import Foundation

/// Asks an external judge program for labels over JSON lines on its stdin and stdout.
///
/// The command starts once, at init, and stays running. For each new pair it gets one line
/// `{"a":…,"b":…,"prompt":…}` (keys sorted; `prompt` is the last user turn) and must answer
/// with one line: `{"preference":"a"}` / `{"preference":"b"}`, or `{"score_a":x,"score_b":y}`
/// (higher wins; equal scores are broken by a coin seeded from `seed` and the pair's content).
/// Repeated pairs (in either order) are answered from the cache without asking; `budget` caps
/// the distinct pairs sent. Calls are serialised: one request in flight at a time.
public final class ExternalAnnotator: Annotator, @unchecked Sendable {
    public let command: [String]
    let ledger: LabelLedger
    let seed: UInt64
    private let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private var buffer = Data()
    private let exchange = NSLock()

    /// Starts `command` (its first element is looked up on PATH). Throws if it cannot start.
    public init(command: [String], budget: Int? = nil, seed: UInt64 = 0) throws {
        guard !command.isEmpty else { throw TaskError("ExternalAnnotator: the command is empty") }
        self.command = command
        self.ledger = LabelLedger(budget: budget)
        self.seed = seed
        signal(SIGPIPE, SIG_IGN)  // a judge that dies must give us an error, not kill us
        let stdin = Pipe(), stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardInput = stdin
        process.standardOutput = stdout
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        do { try process.run() } catch {
            throw TaskError("ExternalAnnotator: cannot start \(command): \(error)")
        }
    }

    deinit { close() }

    /// Distinct pairs sent to the judge so far.
    public var used: Int { ledger.used }

    /// Closes the judge's stdin and waits for it to exit.
    public func close() {
        try? input.close()
        if process.isRunning { process.waitUntilExit() }
    }

    public func label(prompt: Prompt, _ a: String, _ b: String) throws -> PreferenceLabel {
        let key = LabelPairKey(prompt: prompt, a, b)
        return try ledger.label(key) {
            let aWins = try ask(prompt: prompt.lastUserText, a: a, b: b, key: key)
            return aWins != key.swapped  // a is low unless swapped
        }
    }

    /// Sends one request and returns whether the judge prefers `a`.
    func ask(prompt: String, a: String, b: String, key: LabelPairKey) throws -> Bool {
        let request: [String: String] = ["prompt": prompt, "a": a, "b": b]
        var line = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
        line.append(0x0A)
        exchange.lock(); defer { exchange.unlock() }
        do { try input.write(contentsOf: line) } catch {
            throw TaskError("ExternalAnnotator \(command): cannot write a request (judge exited?): \(error)")
        }
        let reply = try readLine()
        return try parse(reply, key: key)
    }

    private func readLine() throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<nl]
                buffer.removeSubrange(buffer.startIndex...nl)
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = output.availableData
            if chunk.isEmpty {
                throw TaskError("ExternalAnnotator \(command): the judge closed its output before replying")
            }
            buffer.append(chunk)
        }
    }

    private func parse(_ reply: String, key: LabelPairKey) throws -> Bool {
        let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8))
        guard let dict = object as? [String: Any] else {
            throw TaskError("ExternalAnnotator \(command): reply is not a JSON object: \(reply.prefix(200))")
        }
        if let p = dict["preference"] as? String {
            guard p == "a" || p == "b" else {
                throw TaskError("ExternalAnnotator \(command): \"preference\" is \"\(p)\", expected \"a\" or \"b\"")
            }
            return p == "a"
        }
        if let sa = (dict["score_a"] as? NSNumber)?.doubleValue, let sb = (dict["score_b"] as? NSNumber)?.doubleValue {
            if sa != sb { return sa > sb }
            var coin = key.rng(seed: seed)
            return (coin.nextDouble() < 0.5) != key.swapped  // coin picks low; a is low unless swapped
        }
        throw TaskError("ExternalAnnotator \(command): reply needs \"preference\" (\"a\"|\"b\") or "
            + "numbers \"score_a\" and \"score_b\": \(reply.prefix(200))")
    }
}
