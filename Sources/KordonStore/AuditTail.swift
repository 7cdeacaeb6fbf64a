import Foundation
import KordonCore

/// The end of a log file: its size, where its last complete line ends, and that line.
struct AuditTail {
    var size: Int
    var completeSize: Int
    var lastLine: [UInt8]?

    /// Reads backwards from the end, doubling the window until the last complete
    /// line is found (lines are short, so usually one read).
    static func read(_ fd: Int32) throws -> AuditTail {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFile.failure("cannot stat the audit log", errno) }
        let size = Int(info.st_size)
        var window = min(size, 8192)
        while window > 0 {
            let start = size - window
            let bytes = try readAt(fd, offset: start, count: window)
            if let last = bytes.lastIndex(of: 0x0A) {
                if let previous = bytes[..<last].lastIndex(of: 0x0A) {
                    return AuditTail(size: size, completeSize: start + last + 1, lastLine: Array(bytes[(previous + 1)..<last]))
                }
                if start == 0 {
                    return AuditTail(size: size, completeSize: last + 1, lastLine: Array(bytes[..<last]))
                }
            } else if start == 0 {
                return AuditTail(size: size, completeSize: 0, lastLine: nil)
            }
            window = min(size, window * 2)
        }
        return AuditTail(size: 0, completeSize: 0, lastLine: nil)
    }

    private static func readAt(_ fd: Int32, offset: Int, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        do {
            let done = try buffer.withUnsafeMutableBytes { raw in
                try FileDescriptorIO.read(fd, into: raw.baseAddress!, count: count, at: offset)
            }
            return Array(buffer.prefix(done))
        } catch let error as FileDescriptorIO.Failure {
            throw DurableFile.failure("cannot read the audit log", error.code)
        }
    }
}
