import Synchronization

/// What the spool's workers take from: claims found in `work/` at start (first, in
/// the order they were made), then names seen in `inbox/`, each name at most once
/// while it waits. Closing it makes every worker's ``next()`` return `nil`: the
/// workers finish what they hold and take nothing more.
final class SpoolQueue: Sendable {
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
        var waiters: [CheckedContinuation<Item?, Never>] = []
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

    private let state = Mutex(State())

    /// Items waiting.
    var count: Int { state.withLock { $0.items.count - $0.head } }

    /// Queues a claim to redo.
    func add(_ claim: SpoolClaim) { push([.recovered(claim)]) }

    /// Queues names not already waiting.
    func offer(_ names: [String]) { push(names.map { .inbox($0) }) }

    private func push(_ items: [Item]) {
        var handed: [(CheckedContinuation<Item?, Never>, Item)] = []
        state.withLock { state in
            guard !state.closed else { return }
            for item in items {
                if case .inbox(let name) = item {
                    guard state.waitingNames.insert(name).inserted else { continue }
                }
                state.items.append(item)
            }
            while !state.waiters.isEmpty, let item = state.pop() {
                handed.append((state.waiters.removeFirst(), item))
            }
        }
        for (waiter, item) in handed { waiter.resume(returning: item) }
    }

    /// The next item; waits for one; `nil` once closed.
    func next() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let ready: Item?? = state.withLock { state in
                if state.closed { return .some(nil) }
                if let item = state.pop() { return .some(item) }
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// The next item and up to `limit - 1` more that are already waiting; waits for
    /// the first; empty once closed.
    func next(upTo limit: Int) async -> [Item] {
        guard let first = await next() else { return [] }
        let more: [Item] = state.withLock { state in
            var taken: [Item] = []
            while taken.count < limit - 1, !state.closed, let item = state.pop() { taken.append(item) }
            return taken
        }
        return [first] + more
    }

    /// Stops handing out work; waiting workers get `nil`.
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}
