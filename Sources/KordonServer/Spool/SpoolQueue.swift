import Foundation

/// What the spool's workers take from: claims found in `work/` at start (first, in
/// the order they were made), then names seen in `inbox/`, each name at most once
/// while it waits. Closing it makes every worker's ``next(upTo:)`` return nothing:
/// the workers finish what they hold and take nothing more.
///
/// The workers are the spool's file threads, which block here between batches: a
/// batch never hops through Swift's cooperative pool on its way to a file thread.
final class SpoolQueue: @unchecked Sendable {
    // `@unchecked`: `state` is read and written only with `condition` locked.
    /// One piece of work.
    enum Item: Sendable, Equatable {
        /// A claim a previous run left in `work/`.
        case recovered(SpoolClaim)
        /// A name in `inbox/`, not yet claimed (it may be gone by then).
        case inbox(String)
    }

    private struct State {
        var items: [Item] = []
        var head = 0
        var waitingNames: Set<String> = []
        var closed = false

        mutating func pop() -> Item? {
            guard head < items.count else { return nil }
            let item = items[head]
            head += 1
            if head > 4096, head * 2 > items.count {  // drop the consumed prefix now and then
                items.removeFirst(head)
                head = 0
            }
            if case .inbox(let name) = item { waitingNames.remove(name) }
            return item
        }
    }

    private let condition = NSCondition()
    private var state = State()

    /// Items waiting.
    var count: Int { locked { $0.items.count - $0.head } }

    /// Queues a claim to redo.
    func add(_ claim: SpoolClaim) { push([.recovered(claim)]) }

    /// Queues names not already waiting.
    func offer(_ names: [String]) { push(names.map { .inbox($0) }) }

    private func push(_ items: [Item]) {
        locked { state in
            guard !state.closed else { return }
            var added = 0
            for item in items {
                if case .inbox(let name) = item {
                    guard state.waitingNames.insert(name).inserted else { continue }
                }
                state.items.append(item)
                added += 1
            }
            if added > 0 { condition.broadcast() }
        }
    }

    /// Up to `limit` items, blocking the calling thread until there is one; empty once closed.
    func next(upTo limit: Int) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        while state.head == state.items.count && !state.closed { condition.wait() }
        var taken: [Item] = []
        while taken.count < limit, !state.closed, let item = state.pop() { taken.append(item) }
        return taken
    }

    /// Stops handing out work; waiting workers get nothing.
    func close() {
        locked { state in
            state.closed = true
            condition.broadcast()
        }
    }

    private func locked<T>(_ body: (inout State) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body(&state)
    }
}
