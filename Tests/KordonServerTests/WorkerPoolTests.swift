import Foundation
import Synchronization
import Testing

@testable import KordonServer

@Suite("scanning pool", .timeLimit(.minutes(10)))
struct WorkerPoolTests {
    /// Occupies the pool's only thread until `release` is signalled; returns once the job runs.
    private func occupy(_ pool: WorkerPool, until release: DispatchSemaphore) {
        let running = DispatchSemaphore(value: 0)
        Task.detached {
            _ = try? await pool.submit {
                running.signal()
                release.wait()
                return 0
            }
        }
        running.wait()
    }

    @Test("a job whose task is cancelled while it waits is skipped, and the task gets CancellationError",
          .timeLimit(.minutes(1)))
    func cancelledWhileWaiting() async throws {
        let pool = WorkerPool(threads: 1, queueBound: 4, name: "kordon-test-cancel")
        defer { pool.stop() }
        let gate = Gate()
        // The only thread is busy until the gate opens (it spins on its own thread, not the test's).
        let busy = Task { try await pool.submit { gate.started.store(true, ordering: .releasing)
            while !gate.open.load(ordering: .acquiring) { usleep(1_000) }
            return 1 } }
        while !gate.started.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
        let waiting = Task { try await pool.submit { gate.ran.add(1, ordering: .relaxed); return 2 } }
        while pool.depth < 1 { try await Task.sleep(for: .milliseconds(5)) }
        waiting.cancel()
        gate.open.store(true, ordering: .releasing)
        #expect(try await busy.value == 1)
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(gate.ran.load(ordering: .relaxed) == 0, "the cancelled job ran")
        // The pool goes on taking work.
        #expect(try await pool.submit { 3 } == 3)
    }

    @Test("runAll queues a whole group and returns every result in its place; those beyond the bound are refused as busy")
    func groupWithRefusals() throws {
        let pool = WorkerPool(threads: 1, queueBound: 2, name: "test-pool")
        defer { pool.stop() }
        let release = DispatchSemaphore(value: 0)
        occupy(pool, until: release)
        let finished = DispatchSemaphore(value: 0)
        let box = Box()
        Thread.detachNewThread {
            box.results = pool.runAll((0..<4).map { n in { @Sendable in n * 10 } })
            finished.signal()
        }
        // Two jobs wait in the queue (its bound); the caller blocks until they ran.
        while pool.depth < 2 { Thread.sleep(forTimeInterval: 0.005) }
        #expect(finished.wait(timeout: .now() + .milliseconds(50)) == .timedOut, "runAll returned before its jobs ran")
        release.signal()
        finished.wait()
        let results = try #require(box.results)
        #expect(try results[0].get() == 0)
        #expect(try results[1].get() == 10)
        for refused in results[2...] {
            #expect(throws: ServiceUnavailable.self) { try refused.get() }
            #expect((try? refused.get()) == nil)
            if case .failure(let error) = refused { #expect(error.code == .busy) }
        }
    }

    @Test("a stopped pool refuses a group as stopping; before that, a group of one returns its job's value")
    func stoppedAndSingle() throws {
        let pool = WorkerPool(threads: 2, queueBound: 8, name: "test-pool")
        #expect(try pool.runAll([{ @Sendable in 42 }])[0].get() == 42)
        pool.stop()
        let results = pool.runAll([{ @Sendable in 1 }])
        if case .failure(let error) = results[0] { #expect(error.code == .stopping) } else { Issue.record("a stopped pool ran a job") }
    }
}

/// Carries a result from the thread that waited for it.
private final class Box: @unchecked Sendable {
    var results: [Result<Int, ServiceUnavailable>]?
}

/// What the cancellation test's jobs see and do.
private final class Gate: Sendable {
    let started = Atomic<Bool>(false)
    let open = Atomic<Bool>(false)
    let ran = Atomic<Int>(0)
}
