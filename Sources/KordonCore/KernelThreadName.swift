import Foundation

/// Names the calling thread where the kernel keeps it, for `top -H`, `ps -L` and perf.
///
/// Foundation's `Thread.name` does not reach the kernel on Linux, and
/// `pthread_setname_np` is not imported into Swift, so the name is written to
/// `/proc/thread-self/comm` (15 bytes at most; longer names are cut).
public enum KernelThreadName {
    /// Sets the calling thread's name; does nothing where `/proc` is not available.
    public static func set(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
