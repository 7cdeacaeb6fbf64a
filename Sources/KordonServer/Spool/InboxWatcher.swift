import Foundation
import KordonCore

#if canImport(Glibc)
import Glibc
#endif

/// Watches `inbox/` with inotify on a thread of its own and reports the names of files
/// that were closed after writing or moved in. When the kernel's event queue overflows
/// it asks for a full rescan instead. The periodic rescan in ``SpoolService`` remains
/// the safety net for anything inotify cannot see (hard links, network file systems).
final class InboxWatcher: @unchecked Sendable {
    // `@unchecked`: the descriptors are set once in `init`; `stopped` is only touched
    // under `lock`. The thread reads the inotify descriptor; `stop` writes to the pipe.
    private let inotify: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let lock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    /// Starts watching `directory`. `onNames` receives names of new complete files;
    /// `onOverflow` is called when events were lost.
    init(directory: String, onNames: @escaping @Sendable ([String]) -> Void, onOverflow: @escaping @Sendable () -> Void) throws {
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else {
            throw KordonError(code: "spool.inotify", message: "cannot start inotify: \(SpoolFiles.reason(errno)); raise fs.inotify.max_user_instances")
        }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR)
        guard inotify_add_watch(inotify, directory, mask) >= 0 else {
            let code = errno
            close(inotify)
            throw KordonError(code: "spool.inotify", message: "cannot watch \(directory): \(SpoolFiles.reason(code))")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(inotify)
            throw KordonError(code: "spool.inotify", message: "cannot create a pipe: \(SpoolFiles.reason(errno))")
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFD, FD_CLOEXEC)
        _ = fcntl(wakeWrite, F_SETFD, FD_CLOEXEC)
        let thread = Thread { [self] in
            loop(onNames: onNames, onOverflow: onOverflow)
            finished.signal()
        }
        thread.name = "kordon-spool-inotify"
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

    private func loop(onNames: @Sendable ([String]) -> Void, onOverflow: @Sendable () -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var polled = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                      pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            polled[0].revents = 0
            polled[1].revents = 0
            let ready = poll(&polled, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                onOverflow()  // cannot wait for events any more: let the rescans carry on
                return
            }
            if polled[1].revents != 0 { return }
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            if count <= 0 { continue }  // EAGAIN/EINTR: poll again
            let (names, overflowed) = Self.parse(buffer[0..<count])
            if overflowed { onOverflow() }
            if !names.isEmpty { onNames(names) }
        }
    }

    /// Decodes `struct inotify_event` records: wd, mask, cookie, len (4 bytes each),
    /// then `len` bytes of NUL-padded name.
    static func parse(_ bytes: ArraySlice<UInt8>) -> (names: [String], overflowed: Bool) {
        var names: [String] = []
        var overflowed = false
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
            if mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
            if mask & UInt32(IN_IGNORED) != 0 { overflowed = true }  // the watch went away: rescans continue
            let trimmed = nameBytes.prefix { $0 != 0 }
            guard !trimmed.isEmpty, let name = String(validating: Array(trimmed), as: UTF8.self) else { continue }
            names.append(name)
        }
        return (names, overflowed)
    }
}
