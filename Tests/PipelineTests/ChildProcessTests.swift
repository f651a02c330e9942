import Foundation
import TestSupport
import XCTest

/// The tests' child-process runner must not deadlock on a chatty child.
final class ChildProcessTests: XCTestCase {
    /// 256 KiB on standard error before anything on standard output: reading stdout to its end first (as the
    /// three runners this one replaced did) leaves the child blocked on a full stderr pipe for ever.
    func testBothPipesAreDrainedAtOnce() throws {
        let script = "head -c 262144 /dev/zero | tr '\\0' e >&2; head -c 262144 /dev/zero | tr '\\0' o; exit 3"
        let result = try ChildProcess.run("/bin/sh", ["-c", script])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.exited)
        XCTAssertEqual(result.stderr.count, 262_144)
        XCTAssertEqual(result.stdout.count, 262_144)
        XCTAssertThrowsError(try ChildProcess.checked("/bin/sh", ["-c", script])) { error in
            XCTAssertTrue("\(error)".contains("exited 3"), "\(error)")
        }
    }
}
