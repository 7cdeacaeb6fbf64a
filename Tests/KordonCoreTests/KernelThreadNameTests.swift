import Foundation
import KordonCore
import Testing

@Suite("Kernel thread names", .timeLimit(.minutes(10)))
struct KernelThreadNameTests {
    @Test("a thread's name reaches /proc (what top -H and perf show), cut to 15 bytes")
    func nameReachesTheKernel() async throws {
        let seen: String = await withCheckedContinuation { continuation in
            Thread {
                KernelThreadName.set("kordon-test-thread-long-name")
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                continuation.resume(returning: comm.trimmingCharacters(in: .newlines))
            }.start()
        }
        #expect(seen == "kordon-test-thr")
    }

    @Test("preferBatch makes the calling thread SCHED_BATCH, and only that thread")
    func batchScheduling() async {
        let (before, after): (Bool, Bool) = await withCheckedContinuation { continuation in
            Thread {
                let before = KernelThreadScheduling.isBatch
                KernelThreadScheduling.preferBatch()
                continuation.resume(returning: (before, KernelThreadScheduling.isBatch))
            }.start()
        }
        #expect(!before && after)
        #expect(!KernelThreadScheduling.isBatch, "another thread's policy changed this one's")
    }
}
