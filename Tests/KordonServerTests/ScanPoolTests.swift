import Foundation
import Testing

@testable import KordonServer

@Suite("scanning pool")
struct ScanPoolTests {
    /// Occupies the pool's only thread until `release` is signalled; returns once the job runs.
    private func occupy(_ pool: ScanPool, until release: DispatchSemaphore) {
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

    @Test("runAll queues a whole group and returns every result in its place; those beyond the bound are refused as busy")
    func groupWithRefusals() throws {
        let pool = ScanPool(threads: 1, queueBound: 2, name: "test-pool")
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
            if case .failure(let error) = refused { #expect(error.code == "busy") }
        }
    }

    @Test("a stopped pool refuses a group as stopping; before that, a group of one returns its job's value")
    func stoppedAndSingle() throws {
        let pool = ScanPool(threads: 2, queueBound: 8, name: "test-pool")
        #expect(try pool.runAll([{ @Sendable in 42 }])[0].get() == 42)
        pool.stop()
        let results = pool.runAll([{ @Sendable in 1 }])
        if case .failure(let error) = results[0] { #expect(error.code == "stopping") } else { Issue.record("a stopped pool ran a job") }
    }
}

/// Carries a result from the thread that waited for it.
private final class Box: @unchecked Sendable {
    var results: [Result<Int, ServiceUnavailable>]?
}
