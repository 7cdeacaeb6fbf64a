import Foundation
import KordonCore
import Logging
import Synchronization

/// Bytes of message bodies all ICAP connections together may hold while they are
/// received and scanned. A request that would go over is answered busy (503) and its
/// body discarded as it arrives: many large uploads at once cost a bounded amount of
/// memory, not one body each.
final class ICAPBufferBudget: Sendable {
    /// The bound.
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Takes `bytes` from the budget; false (and nothing taken) when it would go over.
    func reserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives `bytes` back.
    func release(_ bytes: Int) {
        if bytes > 0 { used.subtract(bytes, ordering: .relaxed) }
    }

    /// Bytes held now.
    var inUse: Int { used.load(ordering: .relaxed) }
}

/// The bearer token REQMOD and RESPMOD requests must carry in `Authorization` when
/// `serve.http.bearerTokenFile` is set (the same token guards both listeners).
/// OPTIONS stays open: it reveals only capabilities, and proxies such as Squid send
/// their configured extra ICAP headers (`adaptation_meta`) with REQMOD/RESPMOD only.
struct ICAPAuthorization: Sendable {
    private let token: [UInt8]

    /// Reads the token file (surrounding whitespace ignored); throws when it is missing or empty.
    init(tokenFile: String) throws {
        guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw KordonError(code: "icap.token", message: "the bearer token file \(tokenFile) cannot be read; check serve.http.bearerTokenFile")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw KordonError(code: "icap.token", message: "the bearer token file \(tokenFile) is empty; put the token in it")
        }
        self.token = Array(token.utf8)
    }

    /// Whether `header` (an `Authorization` value) is `Bearer <token>`; compared in
    /// time that does not depend on where the values differ.
    func permits(_ header: String?) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        var difference = UInt8(given.count == token.count ? 0 : 1)
        for index in 0..<token.count {
            difference |= token[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}

/// What every connection of one ICAP listener shares.
struct ICAPShared: Sendable {
    /// Builds answers and calls the filter.
    let responder: ICAPResponder
    /// Head and line bounds.
    let limits: ICAPLimits
    /// The bound on buffered bodies.
    let budget: ICAPBufferBudget
    /// The token, when auth is on.
    let authorization: ICAPAuthorization?
    /// Largest body scanned; larger ones are blocked as `unchecked`.
    let maxBody: Int
    /// The scanning queue bound: a request arriving while the queue is full is answered busy at once.
    let queueBound: Int
    /// The service's logger.
    let logger: Logger

    /// The service name clients address.
    var serviceName: String { responder.configuration.service }
    /// The current ISTag.
    var istag: String { responder.service.istag }
}
