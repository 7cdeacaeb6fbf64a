import Foundation
import KordonCore
import KordonCrypto

#if canImport(Glibc)
import Glibc
#endif

/// A message as read by ``MessageReader``: held whole when within the size limit,
/// only counted and digested when over it.
public enum MessageInput: Sendable {
    /// The whole message, no larger than the limit, and its SHA-256.
    case whole(Data, sha256: String?)
    /// A message over the limit, never held: its size, its SHA-256 and its first
    /// bytes (at most ``MessageReader/headSize``), from which its form is told.
    case oversized(size: Int, sha256: String?, head: Data)
}

/// Reads one message from a file or a stream with a bound on what it holds:
/// a message larger than ``Limits/maxMessageSize`` is counted and digested to its
/// end a chunk at a time and never kept, so its size costs no memory (a 2 GB input
/// used to be read whole before it was refused).
public enum MessageReader {
    /// Bytes read at a time.
    public static let chunkSize = 1 << 20
    /// Bytes of an oversized message kept to tell its form (as the spool does).
    public static let headSize = 4096

    /// Reads the file at `path`. A regular file whose size is already over `limit`
    /// is only streamed through the digest. Throws a ``KordonError`` (`read.open`,
    /// `read.input`) that names the path but not the reason's details.
    public static func read(path: String, limit: Int) throws -> MessageInput {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw KordonError(code: "read.open", message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        do {
            return try read(fd, limit: limit)
        } catch {
            throw KordonError(code: "read.input", message: "cannot read \(path): \(error.reason)")
        }
    }

    /// Reads `fd` to its end. What arrives is kept in memory up to `limit` bytes;
    /// once more arrives the kept bytes are released (all but the head) and the rest
    /// is only digested and counted. A regular file (`fstat`) is read into a buffer
    /// of its size, or not buffered at all when it is over the limit.
    public static func read(_ fd: Int32, limit: Int) throws(FileDescriptorIO.Failure) -> MessageInput {
        var status = stat()
        let isRegular = fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
        let known = isRegular ? Int(status.st_size) : nil
        // A stream of unknown size goes through a temporary file, so that an oversized one
        // costs no memory however long it is (see SpooledStream).
        if !isRegular, let input = try SpooledStream.read(fd, limit: limit, chunkSize: chunkSize) {
            return input
        }
        let input = try read(fd, limit: limit, buffering: known.map { $0 <= limit } ?? true, capacity: known ?? 0)
        // A file that shrank below the limit while it was read unbuffered: read it again, buffered.
        if case .oversized(let size, _, _) = input, size <= limit, lseek(fd, 0, SEEK_SET) == 0 {
            return try read(fd, limit: limit, buffering: true, capacity: size)
        }
        return input
    }

    private static func read(_ fd: Int32, limit: Int, buffering: Bool, capacity: Int) throws(FileDescriptorIO.Failure) -> MessageInput {
        var tally = MessageTally()
        var kept: Data? = buffering ? Data() : nil
        if buffering, capacity > 0 {
            // A file of known size is read straight into its buffer; the loop below only
            // finds its end (or what was appended since `fstat`).
            var data = Data(count: min(capacity, limit))
            var failure: FileDescriptorIO.Failure?
            let size = data.withUnsafeMutableBytes { raw in
                do throws(FileDescriptorIO.Failure) {
                    return try FileDescriptorIO.read(fd, into: raw.baseAddress!, count: raw.count)
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            data.count = size
            data.withUnsafeBytes { tally.add($0) }
            kept = data
        }
        try tally.readToEnd(fd, chunkSize: buffering && capacity > 0 ? 1 << 16 : chunkSize) { bytes, before in
            if before + bytes.count > limit {
                kept = nil  // released now: the rest of the input is never held
            } else {
                kept?.append(contentsOf: bytes)
            }
        }
        // A digest OpenSSL could not take is nil: the pipeline tries again and holds the message.
        guard let kept else { return .oversized(size: tally.size, sha256: try? tally.digest.finish(), head: tally.head) }
        return .whole(kept, sha256: try? tally.digest.finish())
    }
}

extension Pipeline {
    /// Filters a message read by ``MessageReader``: a whole one through
    /// ``filter(_:source:route:sha256:)`` with the digest already taken, an oversized
    /// one as ``oversized(size:sha256:form:source:route:)`` (its form told from its head).
    public func filter(_ input: MessageInput, source: String, route: Report.Route?) -> FilterResult {
        switch input {
        case .whole(let data, let sha256):
            return filter(data, source: source, route: route, sha256: sha256)
        case .oversized(let size, let sha256, let head):
            return oversized(size: size, sha256: sha256 ?? "", form: MessageForm.detect(head), source: source, route: route)
        }
    }
}
