import Foundation
import Kordon
import Logging

/// What the spool says at start about the file systems it was given, when one of
/// them works against it:
///
/// - a spool on tmpfs or ramfs (a warning): its messages are lost at a reboot or power
///   failure, whatever Kordon fsyncs;
/// - libclamav's scratch directory on the spool's file system (a notice): every scan
///   makes and removes a directory there, and on a journaled disk those wait behind the
///   spool's journal commits (measured: the scanning threads spent about a tenth of
///   their time blocked in `mkdir` and `rmdir`).
struct SpoolFileSystemAdvice {
    /// How loudly to say it.
    let level: Logger.Level
    /// What to say.
    let message: String

    /// The advice for a spool whose libclamav scratch directory is `scratch`; `nil` when
    /// there is nothing to say.
    init?(directories: SpoolDirectories, scratch: String) {
        if let memory = directories.volatileFileSystem {
            level = .warning
            message = "the spool is on \(memory): its messages are lost at a reboot or power failure; put it on a disk for guaranteed delivery"
        } else if directories.sharesFileSystem(with: scratch) {
            level = .notice
            message = "libclamav's scratch directory \(scratch) is on the spool's file system: every scan makes and removes a directory there and waits on the spool's journal commits; set scan.temporaryDirectory to a directory on tmpfs to spare the scans the wait"
        } else {
            return nil
        }
    }

    /// Where libclamav makes its per-scan scratch directories: `scan.temporaryDirectory`,
    /// else `TMPDIR`, else `/tmp` (libclamav's own choice without the setting).
    static func scratchDirectory(_ configuration: Configuration) -> String {
        configuration.scan.temporaryDirectory ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    }
}
