import Foundation
import KordonCore
import KordonStore
import Testing

/// The audit log's append path under load, run on demand only:
///
///     KORDON_AUDIT_BENCH=1 swift test --filter AuditLogBenchmark
///
/// 8 threads append decisions (blocking `append`, as many callers at once as
/// `kordon serve` has scan workers waiting) for a few seconds to a log on the
/// temporary directory's file system (`KORDON_AUDIT_BENCH_DIR` to choose another),
/// then print records per second and the process's CPU time (user + system) per
/// record. `KORDON_AUDIT_BENCH_SECONDS` sets the duration (default 5).
@Suite("Audit log benchmark", .enabled(if: ProcessInfo.processInfo.environment["KORDON_AUDIT_BENCH"] != nil))
struct AuditLogBenchmark {
    @Test("8 concurrent appenders: records/s and CPU per record")
    func eightAppenders() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["KORDON_AUDIT_BENCH_SECONDS"] ?? "") ?? 5
        let base = environment["KORDON_AUDIT_BENCH_DIR"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        let root = base.appendingPathComponent("kordon-audit-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("audit.log"), keyFile = root.appendingPathComponent("audit.key").path
        let log = try AuditLog(file: file, keyFile: keyFile)
        let threads = 8
        let deadline = Date().addingTimeInterval(seconds)
        let start = Date(), cpuStart = Self.processCPU()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, Error>) in
                        Thread {
                            continuation.resume(with: Result {
                                var n = 0
                                while Date() < deadline {
                                    try log.append(Self.entry(thread * 10_000_000 + n))
                                    n += 1
                                }
                                return n
                            })
                        }.start()
                    }
                }
            }
            var total = 0
            for try await count in group { total += count }
            let wall = Date().timeIntervalSince(start), cpu = Self.processCPU() - cpuStart
            print(String(format: "audit bench: %d appenders, %d records in %.2f s = %.0f records/s; CPU %.1f µs/record (%.0f%% of one core)",
                         threads, total, wall, Double(total) / wall, cpu / Double(total) * 1e6, cpu / wall * 100))
            #expect(log.count == total)
        }
        #expect(try AuditLog.verify(file: file, keyFile: keyFile).isIntact)
    }

    /// A decision as `kordon serve` records it.
    private static func entry(_ n: Int) -> AuditEntry {
        AuditEntry(event: "decision", source: "icap/10.0.0.\(n % 250)", messageSHA256: String(repeating: "ab", count: 32),
                   outputSHA256: n % 4 == 0 ? String(repeating: "cd", count: 32) : nil,
                   verdict: n % 3 == 0 ? "quarantined" : "clean", rules: n % 3 == 0 ? ["Win.Test.EICAR_HDB-1"] : [],
                   route: Report.Route(from: "KZ", to: "RU"), quarantineID: n % 3 == 0 ? "q-\(n)" : nil)
    }

    /// User + system CPU seconds of the whole process.
    private static func processCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
