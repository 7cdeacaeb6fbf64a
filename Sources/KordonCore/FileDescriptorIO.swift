import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Whole reads and writes on a file descriptor: short counts and `EINTR` are retried,
/// and a failure comes back as its `errno` for the caller to word in its own error.
public enum FileDescriptorIO {
    /// A system call that failed, with its `errno`.
    public struct Failure: Error, Sendable {
        /// The `errno` it failed with.
        public let code: Int32
        /// `strerror`'s words for it.
        public var reason: String { String(cString: strerror(code)) }

        /// A failure of a call that set `errno` to `code`.
        public init(code: Int32) {
            self.code = code
        }
    }

    /// Writes every byte of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(code: errno)
            }
            offset += count
        }
    }

    /// Reads from `fd` until `count` bytes are in `buffer` or the input ends; returns
    /// how many were read (fewer than `count` only at the end, 0 when already there).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws(Failure) -> Int {
        var filled = 0
        while filled < count {
            let got = Glibc.read(fd, buffer + filled, count - filled)
            if got < 0 {
                if errno == EINTR { continue }
                throw Failure(code: errno)
            }
            if got == 0 { break }
            filled += got
        }
        return filled
    }
}

/// A C function Glibc's Swift module does not import (`sync_file_range`, `statfs`),
/// looked up by name in the running process.
public enum CFunction {
    /// The function called `name`, as `type` (a `@convention(c)` function type that
    /// must match its C declaration); `nil` when the C library has none.
    public static func named<T>(_ name: String, as type: T.Type) -> T? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }
}
