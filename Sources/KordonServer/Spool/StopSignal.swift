import Foundation
import Synchronization

/// Tells the spool's loops that the service is stopping, and lets them wait in a way
/// that ends early when it does: a retry's back-off or the rescan period never holds
/// a shutdown up by more than a tenth of a second.
final class StopSignal: Sendable {
    private let stopped = Atomic<Bool>(false)

    /// Whether ``stop()`` was called.
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// From now on every pause ends at once and returns false.
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Sleeps up to `duration` on a plain thread; false when stopping.
    func pauseBlocking(_ duration: Duration) -> Bool {
        let deadline = ContinuousClock.now + duration
        while !isStopped {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return true }
            Thread.sleep(forTimeInterval: min(left, .milliseconds(100)).seconds)
        }
        return false
    }

    /// Suspends up to `duration`; false when stopping or cancelled.
    func pause(_ duration: Duration) async -> Bool {
        let deadline = ContinuousClock.now + duration
        while !isStopped {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return true }
            do {
                try await Task.sleep(for: min(left, .milliseconds(100)))
            } catch {
                return false
            }
        }
        return false
    }
}
