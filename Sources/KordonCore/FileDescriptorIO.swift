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

    /// Calls `call` again for as long as it fails with `EINTR` (a signal arrived before
    /// it did anything), and returns what it returned; any other failure (a negative
    /// result) is thrown with its `errno`. The one retry-on-interrupt loop in Kordon:
    /// `read`, `write`, `pread`, `pwrite`, `flock`, `poll` and the like go through it.
    @inline(__always)
    public static func retryingInterrupts<T: SignedInteger>(_ call: () -> T) throws(Failure) -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno != EINTR { throw Failure(code: errno) }
        }
    }

    /// Writes every byte of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            offset += try retryingInterrupts { write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
        }
    }

    /// Writes every byte of `bytes` to `fd` at file offset `position` (`pwrite`: the
    /// descriptor's own offset is left alone).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            offset += try retryingInterrupts {
                pwrite(fd, bytes.baseAddress! + offset, bytes.count - offset, off_t(position + offset))
            }
        }
    }

    /// Reads from `fd` until `count` bytes are in `buffer` or the input ends; returns
    /// how many were read (fewer than `count` only at the end, 0 when already there).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws(Failure) -> Int {
        var filled = 0
        while filled < count {
            let got = try retryingInterrupts { Glibc.read(fd, buffer + filled, count - filled) }
            if got == 0 { break }
            filled += got
        }
        return filled
    }

    /// ``read(_:into:count:)`` from file offset `position` (`pread`: the descriptor's
    /// own offset is left alone).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at position: Int) throws(Failure) -> Int {
        var filled = 0
        while filled < count {
            let got = try retryingInterrupts { pread(fd, buffer + filled, count - filled, off_t(position + filled)) }
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
