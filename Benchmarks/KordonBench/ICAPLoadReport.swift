// The run's result as one JSON line, and the non-204 answers printed to stderr.
import Foundation

/// What `icap-load` prints (one JSON object on one line).
struct ICAPLoadReport: Encodable {
    let mode: String
    let service: String
    let connections: Int
    let unique: Bool
    let files: Int
    let requests: Int
    let seconds: Double
    let rate: Double
    let target_rate: Double?
    let p50_ms: Double
    let p90_ms: Double
    let p99_ms: Double
    let max_ms: Double
    /// Answers by ICAP status ("204": clean).
    let statuses: [String: Int]
    /// Answers other than 204.
    let non_clean: Int
    let reconnects: Int
    /// CPU (user + system) of this process over the measurement window, and per request.
    let client_cpu_seconds: Double
    let client_cpu_ms_per_request: Double

    init(options: ICAPLoadOptions, tallies: [ICAPWorkerTally], cpuSeconds: Double) {
        let latencies = tallies.flatMap(\.latencies).sorted()
        var statuses: [Int: Int] = [:]
        for tally in tallies { statuses.merge(tally.statuses, uniquingKeysWith: +) }
        mode = options.rate == nil ? "closed" : "open"
        service = options.service
        connections = options.connections
        unique = options.unique
        files = options.files.count
        requests = latencies.count
        seconds = options.seconds
        rate = Double(latencies.count) / options.seconds
        target_rate = options.rate
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p / 100))]) / 1e6
        }
        p50_ms = percentile(50)
        p90_ms = percentile(90)
        p99_ms = percentile(99)
        max_ms = Double(latencies.last ?? 0) / 1e6
        self.statuses = Dictionary(uniqueKeysWithValues: statuses.map { (String($0.key), $0.value) })
        non_clean = statuses.filter { $0.key != 204 }.values.reduce(0, +)
        reconnects = tallies.map(\.reconnects).reduce(0, +)
        client_cpu_seconds = cpuSeconds
        client_cpu_ms_per_request = latencies.isEmpty ? 0 : cpuSeconds * 1e3 / Double(latencies.count)
    }

    /// Prints the first answer of each non-204 status (stderr), then the JSON line (stdout).
    func print(samples tallies: [ICAPWorkerTally]) {
        var samples: [Int: String] = [:]
        for tally in tallies { samples.merge(tally.samples) { first, _ in first } }
        for (status, head) in samples.sorted(by: { $0.key < $1.key }) {
            FileHandle.standardError.write(Data("icap-load: \(statuses[String(status)] ?? 0) non-clean answers with status \(status), the first:\n\(head)\n".utf8))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return }
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
