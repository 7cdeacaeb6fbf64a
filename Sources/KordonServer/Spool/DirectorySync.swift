import Foundation
import KordonCore

/// Makes the names created, renamed or removed in one directory durable, for many
/// threads at once, with as few `fsync`s as it takes (a group commit).
///
/// A spool message waits on a directory flush three times (claim, delivery,
/// release). Every caller needs a flush that *starts* after its own change; callers
/// arriving while a flush runs join the next one, which one of them runs for all.
/// With sixteen messages in flight that is one flush per directory per round
/// instead of one per message.
final class DirectorySync: @unchecked Sendable {
    // `@unchecked`: `running` and `next` are read and written only with `condition` locked;
    // a round's fields are written by the thread running it, under the lock, before the broadcast.

    /// One flush and the callers it answers.
    private final class Round {
        var finished = false
        var error: Error?
    }

    /// The directory.
    let path: String
    private let condition = NSCondition()
    private var running = false
    private var next = Round()
    /// The directory, open from the first flush on; used only by the caller running a round.
    private var descriptor: Int32 = -1

    /// Syncs `path` (a directory).
    init(path: String) {
        self.path = path
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Returns once a flush that started after this call has finished; throws its error.
    func sync() throws {
        condition.lock()
        let mine = next
        while !mine.finished {
            if running {
                condition.wait()
                continue
            }
            // Nobody is flushing: this caller runs the round it belongs to, for everyone in it.
            running = true
            next = Round()
            condition.unlock()
            var failure: Error?
            do { try flush() } catch { failure = error }
            condition.lock()
            mine.error = failure
            mine.finished = true
            running = false
            condition.broadcast()
        }
        condition.unlock()
        if let error = mine.error { throw error }
    }

    /// fsyncs the directory through the descriptor kept open for it (opened again after a failure).
    private func flush() throws {
        if descriptor < 0 { descriptor = try SpoolFiles.openDirectory(path) }
        guard fsync(descriptor) == 0 else {
            let code = errno
            close(descriptor)
            descriptor = -1
            throw KordonError(code: "spool.sync", message: "cannot fsync \(path): \(SpoolFiles.reason(code))")
        }
    }
}
