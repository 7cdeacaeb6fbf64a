// One thread's share of the load: one connection (reopened if the server closes
// it), requests sent back to back (closed loop) or on a schedule (open loop).
import Foundation

/// What one worker measured inside the measurement window.
struct ICAPWorkerTally: Sendable {
    var latencies: [UInt64] = []  // nanoseconds
    var statuses: [Int: Int] = [:]
    /// The first answer of each non-204 status, to print.
    var samples: [Int: String] = [:]
    var reconnects = 0
}

/// The schedule every worker follows, in monotonic nanoseconds.
struct ICAPLoadPlan: Sendable {
    let options: ICAPLoadOptions
    let templates: [ICAPRequestTemplate]
    let nonce: UInt64
    /// Start of the warmup; measurement starts at `measureStart` and ends at `end`.
    let start: UInt64
    let measureStart: UInt64
    let end: UInt64
}

struct ICAPLoadWorker {
    let plan: ICAPLoadPlan
    let index: Int
    private var connection: ICAPConnection?
    private var tally = ICAPWorkerTally()
    private var stamp = [UInt8](repeating: 0, count: 16)
    private var sent: UInt64 = 0

    init(plan: ICAPLoadPlan, index: Int) {
        self.plan = plan
        self.index = index
    }

    /// Runs until the plan's end; returns what it measured.
    mutating func run() throws -> ICAPWorkerTally {
        let connections = plan.options.connections
        if let rate = plan.options.rate {
            // Open loop: this connection's requests at start + (index/N + n) / (R/N) seconds.
            let interval = Double(connections) / rate * 1e9
            var n = 0.0
            while true {
                let scheduled = plan.start + UInt64((Double(index) / Double(connections) + n) * interval)
                if scheduled >= plan.end { break }
                LoadClock.sleep(until: scheduled)
                let status = try exchange(template: Int(n) * connections + index)
                let done = LoadClock.now()
                if scheduled >= plan.measureStart { record(status, latency: done - scheduled) }
                n += 1
            }
        } else {
            var next = index
            while true {
                let begin = LoadClock.now()
                if begin >= plan.end { break }
                let status = try exchange(template: next)
                let done = LoadClock.now()
                if done >= plan.measureStart, done <= plan.end { record(status, latency: done - begin) }
                next += connections
            }
        }
        connection = nil
        return tally
    }

    private mutating func record(_ answer: ICAPAnswer, latency: UInt64) {
        tally.latencies.append(latency)
        tally.statuses[answer.status, default: 0] += 1
        if answer.status != 204, tally.samples[answer.status] == nil {
            tally.samples[answer.status] = String(decoding: answer.head, as: UTF8.self)
        }
    }

    /// Sends request `number` (cycling through the files) and reads its answer. A
    /// connection the server closed before answering is reopened and the request sent again.
    private mutating func exchange(template number: Int) throws -> ICAPAnswer {
        let template = plan.templates[number % plan.templates.count]
        if plan.options.unique {
            // Request ids: this worker's sequence, interleaved with the other workers'.
            UniqueBody.stamp(kind: template.stampKind, nonce: plan.nonce, id: sent * UInt64(plan.options.connections) + UInt64(index),
                             into: &stamp)
        } else {
            for i in 0..<16 { stamp[i] = template.bytes[template.stampOffset + i] }  // the body as it is
        }
        sent += 1
        for attempt in 0..<3 {
            if connection == nil {
                connection = try ICAPConnection(host: plan.options.host, port: plan.options.port)
                if attempt > 0 || sent > 1 { tally.reconnects += 1 }
            }
            guard let open = connection else { continue }
            guard open.buffered == 0 else {
                throw ICAPLoadFailure(description: "\(open.buffered) bytes arrived after an answer, before the next request")
            }
            do {
                try template.bytes.withUnsafeBytes { bytes in
                    try stamp.withUnsafeBytes { stampBytes in
                        try open.send([UnsafeRawBufferPointer(rebasing: bytes[..<template.stampOffset]), stampBytes,
                                       UnsafeRawBufferPointer(rebasing: bytes[(template.stampOffset + 16)...])])
                    }
                }
                let answer = try ICAPAnswerReader.read(from: open)
                if answer.closes { connection = nil }
                return answer
            } catch is ICAPClosedBeforeAnswer {
                connection = nil
            }
        }
        throw ICAPLoadFailure(description: "the server closed the connection three times without answering")
    }
}
