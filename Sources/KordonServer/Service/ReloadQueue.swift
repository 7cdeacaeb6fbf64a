import Synchronization

/// Lets one reload run at a time; the others wait their turn, in order.
///
/// SIGHUP, the file watcher and an operator can ask for a reload at the same moment.
/// Two builds at once would cost twice the memory, and their swaps could land in either
/// order — a failed blocking reload restoring the engines it captured over a newer good
/// set. An actor is not enough: it lets another call in at every `await`, and a reload
/// awaits its build. Waiting suspends the task; it blocks no thread.
final class ReloadQueue: Sendable {
    private struct State {
        var running = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init() {}

    /// Runs `body` once every reload asked for earlier has finished.
    func run<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                guard state.running else {
                    state.running = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.running = false
                return nil
            }
            return state.waiting.removeFirst()  // still running: the turn passes on
        }
        next?.resume()
    }
}
