import Foundation
import KordonCore

#if canImport(Glibc)
import Glibc
#endif

/// One inotify instance, read on a thread of its own until ``stop()``: the spool
/// watches `inbox/` with it, ``ResourceWatcher`` the signature, schema and rule trees.
///
/// Each read is handed to `onEvents` as the names it carried and whether events were
/// lost (the kernel's queue overflowed, or a watch went away): then the caller must
/// look for itself. With an `idleInterval`, `onIdle` is called whenever that long
/// passes without an event.
final class InotifyReader: @unchecked Sendable {
    // `@unchecked`: the descriptors are set once in `init`; `stopped` is only touched
    // under `lock`. The thread reads the inotify descriptor; `stop` writes to the pipe.

    /// What one read of the inotify descriptor said.
    struct Events: Equatable {
        /// The names the events were about (directory entries; the watched directory's own events have none).
        var names: [String] = []
        /// Events were lost: whatever was watched must be looked at again.
        var overflowed = false
    }

    private let inotify: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let lock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    /// Watches every directory in `directories` for the events in `mask` (`IN_*`) on a
    /// thread named `name`. Throws `inotify.unavailable` when inotify cannot start or
    /// a directory cannot be watched.
    init(directories: [String], mask: UInt32, name: String, idleInterval: Duration? = nil,
         onEvents: @escaping @Sendable (Events) -> Void, onIdle: @escaping @Sendable () -> Void = {}) throws {
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else {
            throw KordonError(code: "inotify.unavailable",
                              message: "cannot start inotify: \(SpoolFiles.reason(errno)); raise fs.inotify.max_user_instances")
        }
        for directory in directories where inotify_add_watch(inotify, directory, mask) < 0 {
            let code = errno
            close(inotify)
            throw KordonError(code: "inotify.unavailable",
                              message: "cannot watch \(directory): \(SpoolFiles.reason(code)); raise fs.inotify.max_user_watches if it says so")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(inotify)
            throw KordonError(code: "inotify.unavailable", message: "cannot create a pipe: \(SpoolFiles.reason(errno))")
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFD, FD_CLOEXEC)
        _ = fcntl(wakeWrite, F_SETFD, FD_CLOEXEC)
        let timeout = idleInterval.map { Int32(min(max($0.seconds * 1000, 1), 3_600_000)) } ?? -1
        let thread = Thread { [self] in
            KernelThreadName.set(name)
            loop(timeout: timeout, onEvents: onEvents, onIdle: onIdle)
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops the thread and closes the descriptors; waits for the thread to finish.
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        finished.wait()
        close(inotify)
        close(wakeRead)
        close(wakeWrite)
    }

    deinit { stop() }

    private func loop(timeout: Int32, onEvents: @Sendable (Events) -> Void, onIdle: @Sendable () -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var polled = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                      pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            polled[0].revents = 0
            polled[1].revents = 0
            guard let ready = try? FileDescriptorIO.retryingInterrupts({ poll(&polled, 2, timeout) }) else {
                onEvents(Events(overflowed: true))  // cannot wait for events any more: the callers' rescans carry on
                return
            }
            if polled[1].revents != 0 { return }
            if ready == 0 {
                onIdle()
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            if count <= 0 { continue }  // EAGAIN/EINTR: poll again
            onEvents(Self.parse(buffer[0..<count]))
        }
    }

    /// Decodes `struct inotify_event` records: wd, mask, cookie, len (4 bytes each),
    /// then `len` bytes of NUL-padded name. Names that are not UTF-8 are left out
    /// (the spool's rescans count them).
    static func parse(_ bytes: ArraySlice<UInt8>) -> Events {
        var events = Events()
        var offset = bytes.startIndex
        let header = 16
        while bytes.endIndex - offset >= header {
            let start = offset - bytes.startIndex
            func field(_ at: Int) -> UInt32 {  // host byte order, as the kernel wrote it
                bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start + at, as: UInt32.self) }
            }
            let mask = field(4)
            let length = Int(field(12))
            let nameBytes = bytes[(offset + header)..<min(bytes.endIndex, offset + header + length)]
            offset += header + length
            if mask & UInt32(IN_Q_OVERFLOW) != 0 { events.overflowed = true }
            if mask & UInt32(IN_IGNORED) != 0 { events.overflowed = true }  // the watch went away
            let trimmed = nameBytes.prefix { $0 != 0 }
            guard !trimmed.isEmpty, let name = String(validating: Array(trimmed), as: UTF8.self) else { continue }
            events.names.append(name)
        }
        return events
    }
}
