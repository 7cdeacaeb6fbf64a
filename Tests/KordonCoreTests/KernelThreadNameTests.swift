import Foundation
import KordonCore
import Testing

@Suite("Kernel thread names")
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
}
