import Foundation
import KordonCore
import KordonCrypto
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The bearer token HTTP and ICAP clients must send (`Authorization: Bearer TOKEN`),
/// kept in `serve.http.bearerTokenFile`: one token on one line.
///
/// The file is read at start, where a missing or empty one stops the service, and
/// again whenever it changes (its size, time or inode, looked at once a second): a
/// token is rotated by replacing the file, without a restart or a reload. A
/// replacement that cannot be read or holds no token is logged, and the token in use
/// stays.
///
/// The file is looked at by a thread of its own, never by
/// ``accepts(_:)``: that runs on an ICAP event loop or in an HTTP handler, where a
/// `stat` or a read of a slow disk would stall every connection the loop serves.
public final class BearerTokenFile: Sendable {
    /// The file.
    public let path: String
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var token: [UInt8]
        /// The file's size, modification time and inode when `token` was read.
        var identity: [Int]
        var refused: [Int]?
    }

    /// How often the file is looked at: a rotated token is in use this long after the change.
    public static let recheck = Duration.seconds(1)

    /// Reads the token; throws `serve.token` when the file cannot be read or holds no
    /// token (or more than one word).
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let (token, identity) = try Self.read(path)
        state = Mutex(State(token: token, identity: identity, refused: nil))
        // The watching thread holds the file weakly: it ends within a second of the service letting go.
        let watcher = Thread { [weak self] in
            KernelThreadName.set("kordon-token")
            while true {
                Thread.sleep(forTimeInterval: Self.recheck.seconds)
                guard let self else { return }
                self.refresh()
            }
        }
        watcher.name = "kordon-token"
        watcher.start()
    }

    /// Whether an `Authorization` header value carries the token. Takes the same time
    /// whatever the first difference, so timing tells nothing about the token.
    public func accepts(_ authorization: String?) -> Bool {
        guard let authorization else { return false }
        let scheme = "bearer "
        guard authorization.utf8.count > scheme.utf8.count, authorization.prefix(scheme.count).lowercased() == scheme else {
            return false
        }
        let offered = Array(authorization.dropFirst(scheme.count).trimmingCharacters(in: .whitespaces).utf8)
        return ConstantTime.equal(offered, current())
    }

    /// The token in use.
    private func current() -> [UInt8] {
        state.withLock { $0.token }
    }

    /// Reads the file again if it changed since the token in use was read (on the watching thread).
    private func refresh() {
        let known = state.withLock { ($0.identity, $0.refused) }
        guard let identity = Self.identity(path), identity != known.0, identity != known.1 else { return }
        do {
            let (token, identity) = try Self.read(path)
            state.withLock { state in
                (state.token, state.identity, state.refused) = (token, identity, nil)
            }
            logger.info("the bearer token file changed; the new token is in use", metadata: ["file": "\(path)"])
        } catch {
            state.withLock { $0.refused = identity }  // reported once per version of the file
            logger.error("the bearer token file changed but holds no usable token; the previous token stays in use",
                         metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }

    /// The token (the file's content without surrounding whitespace) and the file's identity.
    private static func read(_ path: String) throws -> (token: [UInt8], identity: [Int]) {
        let identity = identity(path) ?? []
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KordonError(code: "serve.token", message: "cannot read the bearer token file \(path); check serve.http.bearerTokenFile")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            throw KordonError(code: "serve.token",
                              message: "the bearer token file \(path) is empty; put a token (e.g. `openssl rand -hex 32`) in it")
        }
        guard !text.contains(where: \.isWhitespace) else {
            throw KordonError(code: "serve.token", message: "the bearer token in \(path) contains whitespace; use one token on one line")
        }
        return (Array(text.utf8), identity)
    }

    /// Size, modification time and inode: what changes when the file is edited or replaced.
    private static func identity(_ path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_ino)]
    }
}
