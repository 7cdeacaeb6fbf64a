import Foundation
import Hummingbird
import Synchronization

/// Bytes of request bodies held at once, across all connections.
///
/// Each body is bounded by the message size limit, but many connections could
/// each hold one: the budget bounds their sum. It is sized for as many
/// full-size messages as the scanning pool can take (threads plus queue), so a
/// request beyond it would be refused as busy anyway; it is refused sooner,
/// before its body is read.
final class HTTPBodyBudget: Sendable {
    /// The most bytes held at once.
    let capacity: Int
    private let used = Mutex(0)

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes <= capacity - used else { return false }
            used += bytes
            return true
        }
    }

    /// Gives `bytes` back.
    func release(_ bytes: Int) {
        used.withLock { $0 -= bytes }
    }

    /// Bytes held now.
    var inUse: Int { used.withLock { $0 } }
}

/// Reads one request body into memory, never more than `limit` bytes, and never
/// more than the shared ``HTTPBodyBudget`` allows.
struct HTTPBodyCollector: ~Copyable {
    /// Why a body was not collected.
    enum Refusal: Error {
        /// Over the message size limit (declared or as it arrived).
        case tooLarge(declared: Int?)
        /// The budget is spent: too many bodies in flight.
        case busy
    }

    private let budget: HTTPBodyBudget
    private var reserved = 0

    init(budget: HTTPBodyBudget) {
        self.budget = budget
    }

    /// Checks and reserves a declared `Content-Length` before a byte is read.
    mutating func admit(declaredLength: Int?, limit: Int) throws(Refusal) {
        guard let declaredLength else { return }
        guard declaredLength <= limit else { throw .tooLarge(declared: declaredLength) }
        guard budget.reserve(declaredLength) else { throw .busy }
        reserved = declaredLength
    }

    /// Reads the body, never past `limit`; a chunked body is reserved as it arrives.
    mutating func collect(_ body: RequestBody, declaredLength: Int?, limit: Int) async throws -> Data {
        var data = Data()
        data.reserveCapacity(declaredLength ?? 0)
        for try await chunk in body {
            let total = data.count + chunk.readableBytes
            guard total <= limit else { throw Refusal.tooLarge(declared: declaredLength) }
            if total > reserved {
                guard budget.reserve(total - reserved) else { throw Refusal.busy }
                reserved = total
            }
            chunk.withUnsafeReadableBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    deinit {
        if reserved > 0 { budget.release(reserved) }
    }
}
