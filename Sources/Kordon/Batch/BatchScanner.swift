import Foundation
import KordonCore
import Synchronization

/// Scans many messages on a fixed number of threads and hands each report,
/// as it is ready, to a single consumer.
///
/// Scanning is CPU-bound C work (libxml2, libclamav), so it runs on plain
/// threads, one per job, never on Swift concurrency's cooperative pool.
public struct BatchScanner: Sendable {
    /// Running totals, for progress and the summary line.
    public struct Totals: Sendable {
        /// Messages finished.
        public var done = 0
        /// Messages found clean.
        public var clean = 0
        /// Messages sanitized.
        public var sanitized = 0
        /// Messages quarantined.
        public var quarantined = 0
        /// Bytes read.
        public var bytes = 0
    }

    /// The pipeline every job uses.
    public let pipeline: Pipeline
    /// Threads to scan on.
    public let jobs: Int
    /// The route every message takes, or `nil` to read it from each document.
    public let route: Report.Route?

    /// Creates a scanner.
    public init(pipeline: Pipeline, jobs: Int, route: Report.Route? = nil) {
        self.pipeline = pipeline
        self.jobs = max(1, jobs)
        self.route = route
    }

    /// Scans `files`; `deliver` is called once per file, from one thread at a
    /// time, with the report and the totals so far. Returns the final totals.
    public func run(_ files: [String], deliver: @escaping @Sendable (Report, Totals) -> Void) -> Totals {
        let next = Atomic<Int>(0)
        let totals = Mutex(Totals())
        let workers = min(jobs, max(1, files.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread {
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < files.count else { break }
                    let report = scanFile(files[index])
                    totals.withLock { totals in
                        totals.done += 1
                        totals.bytes += report.message.size
                        switch report.verdict {
                        case .clean: totals.clean += 1
                        case .sanitized: totals.sanitized += 1
                        case .quarantined: totals.quarantined += 1
                        }
                        deliver(report, totals)
                    }
                }
                group.leave()
            }
            // libclamav and libxml2 recurse on nested content: give them room.
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return totals.withLock { $0 }
    }

    /// Reads and filters one file; a file that cannot be read is quarantined with
    /// an `error` finding rather than skipped. A file over ``Limits/maxMessageSize``
    /// is streamed through its digest, never held (see ``MessageReader``).
    public func scanFile(_ path: String) -> Report {
        let input: MessageInput
        do {
            input = try MessageReader.read(path: path, limit: pipeline.engines.limits.maxMessageSize)
        } catch {
            let finding = Finding(stage: .error, rule: "kordon.read", part: .message,
                                  detail: "the file could not be read")
            return Report(message: .init(source: path, sha256: "", size: 0, format: "opaque"),
                          verdict: .quarantined, findings: [finding], output: nil,
                          engine: pipeline.engines.reportEngine())
        }
        return pipeline.filter(input, source: path, route: route).report
    }
}
