import CZlib
import Foundation

/// gzip detection by magic bytes and inflation through zlib.
enum DataGzip {
    /// Whether `data` starts with the gzip magic bytes 1f 8b.
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Inflates every gzip member of `data`; on a damaged or truncated stream it returns what was
    /// decoded so far and says what went wrong, so that rows before the damage are not lost.
    static func inflate(_ data: Data) -> (output: Data, problem: String?) {
        var output = Data()
        var problem: String?
        let bytes = data.withUnsafeBytes { [UInt8]($0) }
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        bytes.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress else { problem = "empty gzip file"; return }
            guard src.count <= Int(UInt32.max) else { problem = "gzip file over 4 GiB: split it"; return }
            var s = z_stream()
            // windowBits 15 + 32: a 32 KiB window and automatic gzip/zlib header detection.
            guard inflateInit2_(&s, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                problem = "zlib could not start inflating"
                return
            }
            defer { inflateEnd(&s) }
            s.next_in = UnsafeMutablePointer(mutating: base)
            s.avail_in = uInt(src.count)
            while true {
                let status: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                    s.next_out = out.baseAddress
                    s.avail_out = uInt(chunk)
                    return CZlib.inflate(&s, Z_NO_FLUSH)
                }
                let produced = chunk - Int(s.avail_out)
                buffer.withUnsafeBufferPointer { b in
                    if let p = b.baseAddress, produced > 0 { output.append(p, count: produced) }
                }
                if status == Z_STREAM_END {
                    let consumed = src.count - Int(s.avail_in)
                    // Concatenated members (as `cat a.gz b.gz` makes) continue the same text.
                    if s.avail_in >= 2, src[consumed] == 0x1F, src[consumed + 1] == 0x8B {
                        inflateReset(&s)
                        continue
                    }
                    return
                }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR {
                    problem = "truncated gzip stream: the compressed data ends after \(src.count) bytes, "
                        + "before the end of the stream (\(output.count) bytes decoded)"
                } else {
                    let detail = s.msg.map { String(cString: $0) } ?? "status \(status)"
                    problem = "corrupt gzip data after \(output.count) decoded bytes: \(detail)"
                }
                return
            }
        }
        return (output, problem)
    }
}
