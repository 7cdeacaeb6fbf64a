import Foundation
import Synchronization
import Testing

@testable import KordonServer

/// A job's captures (in the service, the whole message it scans) are let go as soon as
/// the job has run: the queue used to keep its last 1,024 jobs, so `kordon serve` held
/// every large message it had filtered (95 MB more after each 99 MB POST).
@Suite("scanning pool: memory of finished jobs", .timeLimit(.minutes(10)))
struct WorkerPoolReleaseTests {
    /// Stands for a message: tells when it is freed.
    final class Message: Sendable {
        let counter: Counter
        init(_ counter: Counter) { self.counter = counter }
        func size() -> Int { 1 }
        deinit { counter.freed.wrappingAdd(1, ordering: .relaxed) }
    }

    /// Counts messages freed.
    final class Counter: Sendable { let freed = Atomic<Int>(0) }

    @Test("what a job captured is freed once the job has run, whether submitted alone or in a group")
    func capturesAreFreed() async throws {
        let pool = WorkerPool(threads: 2, queueBound: 8, name: "test-release")
        defer { pool.stop() }
        let counter = Counter()
        for _ in 0..<3 {
            let message = Message(counter)
            _ = try await pool.submit { message.size() }
        }
        let group: [@Sendable () -> Int] = (0..<3).map { _ in
            let message = Message(counter)
            return { message.size() }
        }
        _ = pool.runAll(group)
        _ = consume group
        // The pool's threads drop their references right after running the jobs.
        let deadline = ContinuousClock.now + .seconds(5)
        while counter.freed.load(ordering: .relaxed) < 6, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(counter.freed.load(ordering: .relaxed) == 6)
    }
}
