// `KordonBench detection`: single-threaded RuleSet.scan throughput over the in-memory corpus.
import Foundation
import KordonRules

/// Times `RuleSet.scan` over 64 KB chunks and prints MB/s per CPU second and per wall second.
enum DetectionBenchmark {
    static func run(_ options: DetectionOptions) throws {
        var corpus = DetectionCorpus(numeric: options.numeric)
        let built = Date()
        let (chunks, planted) = corpus.chunks(megabytes: options.megabytes)
        let bytes = chunks.reduce(0) { $0 + $1.count }
        let digits = chunks.reduce(0) { total, chunk in total + chunk.reduce(0) { $0 + ($1 >= 0x30 && $1 <= 0x39 ? 1 : 0) } }
        print("corpus: \(bytes / 1_048_576) MB in \(chunks.count) chunks, \(String(format: "%.1f", Double(digits) * 100 / Double(bytes)))% digits, \(planted) planted findings (built in \(String(format: "%.1f", Date().timeIntervalSince(built))) s)")

        let loading = (wall: Date(), cpu: threadCPUSeconds())
        let library = try RuleLibrary.load(directories: [options.rules], pseudonymKey: nil, cacheDirectory: options.cache)
        let rules = try library.ruleSet(for: library.packs.map(\.id))
        print("rules: \(rules.description) (loaded and compiled in \(String(format: "%.2f", Date().timeIntervalSince(loading.wall))) s, \(String(format: "%.3f", threadCPUSeconds() - loading.cpu)) s CPU)")
        if let report = library.cacheReport {
            print(report)
            report.problems.forEach { print("  \($0)") }
        }

        var best = (wall: Double.infinity, cpu: Double.infinity)
        let megabytes = Double(bytes) / 1_048_576
        for pass in 1...options.passes {
            var matches = 0
            let start = (wall: DispatchTime.now().uptimeNanoseconds, cpu: threadCPUSeconds())
            for chunk in chunks { matches += rules.scan(chunk).count }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start.wall) / 1e9
            let cpu = threadCPUSeconds() - start.cpu
            best = (min(best.wall, wall), min(best.cpu, cpu))
            print(String(format: "pass %d: %.3f s wall (%.0f MB/s), %.3f s CPU (%.0f MB/s), %d matches",
                         pass, wall, megabytes / wall, cpu, megabytes / cpu, matches))
        }
        print(String(format: "detection: %.0f MB/s per core-second of CPU, %.0f MB/s wall (best of %d passes, all packs, one thread)",
                     megabytes / best.cpu, megabytes / best.wall, options.passes))
    }

    /// CPU time of this thread: on a machine shared with other work, wall time measures the neighbours too.
    static func threadCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
