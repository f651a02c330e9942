import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An external judge: a command that reads comparisons as JSON lines and answers with preferences.
///
/// Protocol (docs/benchmarks.md): the command is started once per block of comparisons with no
/// arguments beyond its own. Its standard input gets one JSON object per line,
/// `{"id", "instruction", "output_1", "output_2"}` (output_1 the reference answer), then end of file.
/// It must print exactly one line per request, `{"id": <same id>, "preference": <number in [1, 2]>}`
/// (1: output_1 better, 2: output_2 better, 1.5 a tie), in any order, and exit 0 within `timeLimit`
/// seconds. Blank lines are allowed; anything else — a line that is not such an object, an unknown,
/// missing or repeated id, a preference outside [1, 2], a non-zero exit, or silence past the limit — is
/// an error that names the line, and no item of the block is recorded.
public struct JudgeCommand: PairwiseJudge {
    /// The program and its arguments (no shell).
    public var command: [String]
    /// Seconds one call may take.
    public var timeLimit: Double

    public init(command: [String], timeLimit: Double = 600) {
        self.command = command
        self.timeLimit = timeLimit
    }

    public func judge(_ requests: [JudgeRequest]) throws -> [Double] {
        guard let program = command.first else { throw BenchmarkError("judge command: empty command") }
        let name = command.joined(separator: " ")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-judge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try requests.map { try JSONEncoder().encode($0) }.reduce(into: Data()) { $0.append($1); $0.append(0x0A) }
        let inURL = dir.appendingPathComponent("in.jsonl"), outURL = dir.appendingPathComponent("out.jsonl")
        let errURL = dir.appendingPathComponent("err.txt")
        try input.write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        let p = Process()
        // `timeout` runs the judge in its own process group and kills the whole group at the limit,
        // so a judge that started helpers leaves none behind.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["timeout", "-s", "KILL", "\(timeLimit)", program] + command.dropFirst()
        p.standardInput = try FileHandle(forReadingFrom: inURL)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        do { try p.run() } catch { throw BenchmarkError("judge command '\(name)' could not start: \(error)") }
        let deadline = Date().addingTimeInterval(timeLimit + 10)
        while p.isRunning && Date() < deadline { usleep(5_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        let killed = p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL
        if killed || p.terminationStatus == 124 || p.terminationStatus == 137 {
            throw BenchmarkError("judge command '\(name)' gave no answer within \(timeLimit) s (killed)")
        }
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        if p.terminationStatus == 127 && stderr.contains("No such file") {
            throw BenchmarkError("judge command '\(name)' could not start: \(stderr.suffix(300))")
        }
        guard p.terminationStatus == 0 else {
            throw BenchmarkError("judge command '\(name)' exited with status \(p.terminationStatus): \(stderr.suffix(400))")
        }
        return try JudgeCommand.parse(try Data(contentsOf: outURL), requests: requests, name: name)
    }

    /// Validates a judge's output against the requests and returns the preferences in request order.
    public static func parse(_ output: Data, requests: [JudgeRequest], name: String) throws -> [Double] {
        let wanted = Set(requests.map(\.id))
        var got: [String: Double] = [:]
        let text = String(decoding: output, as: UTF8.self)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = PythonText.strip(String(line))
            if trimmed.isEmpty { continue }
            let at = "judge command '\(name)', output line \(i + 1)"
            guard let obj = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw BenchmarkError("\(at): expected {\"id\": ..., \"preference\": 1..2}, got '\(trimmed.prefix(120))'")
            }
            guard let id = obj["id"] as? String else { throw BenchmarkError("\(at): no string 'id'") }
            guard wanted.contains(id) else { throw BenchmarkError("\(at): unknown id '\(id)'") }
            guard got[id] == nil else { throw BenchmarkError("\(at): id '\(id)' answered twice") }
            // JSONDecoder, unlike JSONSerialization on Linux, tells `true` and `"2"` from a number.
            struct Answer: Decodable { var preference: Double }
            guard let p = try? JSONDecoder().decode(Answer.self, from: Data(trimmed.utf8)).preference, (1...2).contains(p) else {
                throw BenchmarkError("\(at): 'preference' must be a number in [1, 2], got \(obj["preference"].map { "\($0)" } ?? "nothing")")
            }
            got[id] = p
        }
        if got.isEmpty { throw BenchmarkError("judge command '\(name)' printed no answers for \(requests.count) requests") }
        let missing = requests.map(\.id).filter { got[$0] == nil }
        guard missing.isEmpty else {
            throw BenchmarkError("judge command '\(name)' did not answer \(missing.count) of \(requests.count) requests (first: \(missing[0]))")
        }
        return requests.map { got[$0.id]! }
    }
}
