import Foundation

/// TensorBoard's event-file format, written without TensorFlow: a file of TFRecords, each holding one
/// `Event` protobuf. A record is the payload length (uint64, little-endian), the masked CRC-32C of those
/// 8 bytes, the payload, and the masked CRC-32C of the payload. The first event carries the file version;
/// each later one a `Summary` of scalar values at a step.
public enum TensorBoardEvents {
    /// The version string TensorBoard's reader expects in the first event.
    public static let fileVersion = "brain.Event:2"

    /// One framed record around `payload`.
    public static func record(_ payload: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        appendFixed(UInt64(payload.count), bytes: 8, to: &length)
        var out = length
        appendFixed(UInt64(maskedCRC32C(length)), bytes: 4, to: &out)
        out += payload
        appendFixed(UInt64(maskedCRC32C(payload)), bytes: 4, to: &out)
        return out
    }

    /// `Event{wall_time = 1, step = 2, file_version = 3}`.
    public static func versionEvent(wallTime: Double) -> [UInt8] {
        var event = header(wallTime: wallTime, step: 0)
        appendBytes(field: 3, Array(fileVersion.utf8), to: &event)
        return event
    }

    /// `Event{wall_time = 1, step = 2, summary = 5 {value = 1 [{tag = 1, simple_value = 2}]}}`, values in
    /// tag order. TensorBoard stores scalars as 32-bit floats.
    public static func scalarEvent(wallTime: Double, step: Int, values: [String: Double]) -> [UInt8] {
        var summary: [UInt8] = []
        for tag in values.keys.sorted() {
            var value: [UInt8] = []
            appendBytes(field: 1, Array(tag.utf8), to: &value)
            appendKey(field: 2, wireType: 5, to: &value)
            appendFixed(UInt64(Float(values[tag] ?? .nan).bitPattern), bytes: 4, to: &value)
            appendBytes(field: 1, value, to: &summary)
        }
        var event = header(wallTime: wallTime, step: step)
        appendBytes(field: 5, summary, to: &event)
        return event
    }

    private static func header(wallTime: Double, step: Int) -> [UInt8] {
        var event: [UInt8] = []
        appendKey(field: 1, wireType: 1, to: &event)
        appendFixed(wallTime.bitPattern, bytes: 8, to: &event)
        appendKey(field: 2, wireType: 0, to: &event)
        appendVarint(UInt64(bitPattern: Int64(step)), to: &event)
        return event
    }

    // MARK: protobuf wire format

    private static func appendKey(field: Int, wireType: Int, to out: inout [UInt8]) {
        appendVarint(UInt64(field << 3 | wireType), to: &out)
    }

    /// A length-delimited field (wire type 2): strings and nested messages.
    private static func appendBytes(field: Int, _ bytes: [UInt8], to out: inout [UInt8]) {
        appendKey(field: field, wireType: 2, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out += bytes
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func appendFixed(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    // MARK: CRC-32C

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord frames use.
    public static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The TFRecord mask: rotated right by 15 bits plus a constant, so that a CRC of data holding CRCs
    /// does not degenerate.
    public static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }
}

/// Appends a node's scalars to one TensorBoard event file, buffered: the owner calls `flush` when it
/// flushes its other files. Not thread-safe; `NodeRecorder` calls it with its lock held.
final class TensorBoardWriter {
    /// The folder TensorBoard shows as the run: `tensorboard/<cell>/<stage>` inside the node's folder.
    static func runDirectory(in nodeDirectory: URL, cell: String, stage: String) -> URL {
        nodeDirectory.appendingPathComponent("tensorboard")
            .appendingPathComponent(safeName(cell)).appendingPathComponent(safeName(stage))
    }

    private let file: URL
    private var handle: FileHandle?
    private var pending: [UInt8] = []
    /// The step of the last curve point, where summary values are placed.
    private(set) var lastStep = 0

    /// Names the file (`events.out.tfevents.<seconds>.preflab`, the pattern TensorBoard looks for) and
    /// queues the version event; nothing touches the disk until the first `flush` with scalars queued.
    init(runDirectory: URL, start: Date) {
        file = runDirectory.appendingPathComponent("events.out.tfevents.\(Int(start.timeIntervalSince1970)).preflab")
        pending = TensorBoardEvents.record(TensorBoardEvents.versionEvent(wallTime: start.timeIntervalSince1970))
    }

    private var hasScalars = false

    func add(step: Int, values: [String: Double], at time: Date) {
        guard !values.isEmpty else { return }
        hasScalars = true
        lastStep = max(lastStep, step)
        pending += TensorBoardEvents.record(TensorBoardEvents.scalarEvent(wallTime: time.timeIntervalSince1970,
                                                                          step: step, values: values))
    }

    /// Writes what is queued; a node that never reported a scalar gets no file.
    func flush() throws {
        guard hasScalars, !pending.isEmpty else { return }
        if handle == nil {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileWriter.write(Data(), to: file)
            handle = try FileHandle(forWritingTo: file)
        }
        try handle?.write(contentsOf: Data(pending))
        pending = []
    }

    func close() {
        try? handle?.close()
        handle = nil
    }

    /// A path component: separators and control characters become `_`.
    private static func safeName(_ name: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\\" || $0.isNewline || $0 == "\0" ? "_" : $0 })
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "_" : cleaned
    }
}
