import Foundation
import KordonCore
import Logging
import NIOCore
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

/// What every connection of one ICAP listener shares.
struct ICAPShared: Sendable {
    /// Builds answers and calls the filter.
    let responder: ICAPResponder
    /// Head and line bounds.
    let limits: ICAPLimits
    /// The bound on buffered bodies.
    let budget: ICAPBufferBudget
    /// The token, when auth is on.
    /// The bearer token REQMOD and RESPMOD requests must carry when set. OPTIONS stays
    /// open: it reveals only capabilities, and proxies such as Squid send their configured
    /// extra ICAP headers (`adaptation_meta`) with REQMOD/RESPMOD only.
    let authorization: BearerTokenFile?
    /// Largest body scanned; larger ones are blocked as `unchecked`.
    let maxBody: Int
    /// The scanning queue bound: a request arriving while the queue is full is answered busy at once.
    let queueBound: Int
    /// The service's logger.
    let logger: Logger
    /// How long a whole head may take to arrive (`serve.icap.headTimeoutSeconds`).
    let headTimeout: TimeAmount

    /// The service name clients address.
    var serviceName: String { responder.configuration.service }
    /// The current ISTag.
    var istag: String { responder.service.istag }
}
