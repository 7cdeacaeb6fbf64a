// `KordonBench icap-load`: reads the files, builds one request per file, runs the
// workers on their own threads, and reports.
import Foundation

enum ICAPLoad {
    static func run(_ options: ICAPLoadOptions) {
        do {
            let report = try measure(options)
            report.report.print(samples: report.tallies)
        } catch {
            FileHandle.standardError.write(Data("icap-load: \(error)\n".utf8))
            exit(1)
        }
    }

    static func measure(_ options: ICAPLoadOptions) throws -> (report: ICAPLoadReport, tallies: [ICAPWorkerTally]) {
        var templates: [ICAPRequestTemplate] = []
        for file in options.files {
            let body = try [UInt8](Data(contentsOf: file))
            let location: UniqueBody.Location
            do {
                location = try UniqueBody.locate(in: body)
            } catch let problem as UniqueBody.Unstampable {
                // Only --unique needs a stamp; without it the 16 bytes are sent as they are.
                guard !options.unique, body.count >= 16 else { throw ICAPLoadFailure(description: "\(file.path): \(problem)") }
                location = UniqueBody.Location(offset: 0, kind: .binary)
            }
            templates.append(ICAPRequestTemplate(host: options.host, service: options.service, body: body, stamp: location))
        }
        let start = LoadClock.now() + 50_000_000  // every thread started and connected first
        let measureStart = start + UInt64(options.warmup * 1e9)
        let plan = ICAPLoadPlan(options: options, templates: templates, nonce: UInt64.random(in: .min ... .max),
                                start: start, measureStart: measureStart, end: measureStart + UInt64(options.seconds * 1e9))
        let results = ICAPLoadResults()
        let group = DispatchGroup()
        for index in 0..<options.connections {
            group.enter()
            let thread = Thread {
                var worker = ICAPLoadWorker(plan: plan, index: index)
                do {
                    results.add(try worker.run())
                } catch {
                    // Fail loudly: a protocol error invalidates the whole run.
                    FileHandle.standardError.write(Data("icap-load: connection \(index): \(error)\n".utf8))
                    exit(1)
                }
                group.leave()
            }
            thread.start()
        }
        LoadClock.sleep(until: measureStart)
        let cpuBefore = LoadClock.processCPUSeconds()
        group.wait()
        let cpu = LoadClock.processCPUSeconds() - cpuBefore
        let tallies = results.all
        return (ICAPLoadReport(options: options, tallies: tallies, cpuSeconds: cpu), tallies)
    }
}

/// The workers' tallies, added from their threads.
/// @unchecked Sendable: every access goes through `lock`.
final class ICAPLoadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var tallies: [ICAPWorkerTally] = []

    func add(_ tally: ICAPWorkerTally) {
        lock.lock()
        defer { lock.unlock() }
        tallies.append(tally)
    }

    var all: [ICAPWorkerTally] {
        lock.lock()
        defer { lock.unlock() }
        return tallies
    }
}
