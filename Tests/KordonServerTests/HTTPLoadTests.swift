import Foundation
import Kordon
import KordonCore
import KordonServer
import Synchronization
import Testing

/// The HTTP API under concurrent clients: back-pressure and reloads.
@Suite("HTTP API under load", .timeLimit(.minutes(10)))
struct HTTPLoadTests {
    /// The three kinds of message the clients send, and what each must get back.
    struct Sample: Sendable {
        var name: String
        var body: Data
        /// Checks one answer; returns what is wrong with it, or nil.
        var check: @Sendable (HTTPTestAnswer) -> String?
    }

    static func samples() throws -> [Sample] {
        let clean = try httpCleanDeclaration()
        let infected = try httpInfectedDeclaration()
        let restricted = try httpRestrictedFixture("declaration-person-kz-ru.xml")
        return [
            Sample(name: "clean", body: clean) { answer in
                answer.status == 200 && answer.body == clean && answer.header("Kordon-Verdict") == "clean" ? nil : "clean: \(answer.status)"
            },
            Sample(name: "infected", body: infected) { answer in
                guard answer.status == 403, let report = try? answer.report() else { return "infected: \(answer.status)" }
                return report.findings.contains { $0.stage == .virus } ? nil : "infected: no virus finding"
            },
            Sample(name: "restricted", body: restricted) { answer in
                answer.status == 200 && answer.header("Kordon-Verdict") == "sanitized" && !answer.body.isEmpty
                    && !answer.text.contains("791028302728") ? nil : "restricted: \(answer.status)"
            },
        ]
    }

    @Test("one thread, a queue of one, 20 concurrent large messages: some get 503 + Retry-After, the rest pass intact")
    func busy() async throws {
        let server = try await HTTPTestServer.start { configuration, _ in
            configuration.service.threads = 1
            configuration.service.queue = 1
            configuration.service.cache.entries = 0  // 20 copies of one message: each must reach the pool
        }
        let message = try httpLargeDeclaration(bytes: 3 << 20)
        let answers = try await withThrowingTaskGroup(of: HTTPTestAnswer.self) { group in
            for _ in 0..<20 {
                group.addTask { try await httpSend(server.url("/v1/filter"), body: message) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let exposition = server.filter.metrics.exposition()
        try await server.stop()
        let busy = answers.filter { $0.status == 503 }
        let passed = answers.filter { $0.status == 200 }
        #expect(busy.count >= 1, "a queue of one cannot hold 19 waiting messages")
        #expect(passed.count >= 2, "the thread and the queue slot took messages")
        #expect(busy.count + passed.count == 20, "statuses: \(answers.map(\.status))")
        for answer in busy {
            #expect(answer.header("Retry-After") == "1")
            #expect((try answer.object()["error"] as? [String: Any])?["code"] as? String == "service.busy")
        }
        for answer in passed {
            #expect(answer.body == message)
            #expect(answer.header("Kordon-Verdict") == "clean")
        }
        #expect(exposition.contains("kordon_busy_total \(busy.count)"))
    }

    @Test("graceful shutdown: the message being scanned is answered in full; new connections are refused")
    func gracefulShutdown() async throws {
        let server = try await HTTPTestServer.start { configuration, _ in configuration.service.threads = 1 }
        let message = try httpLargeDeclaration(bytes: 2 << 20)  // seconds of scanning in a debug build
        let inFlight = Task { try await httpSend(server.url("/v1/filter"), body: message) }
        try await Task.sleep(for: .milliseconds(700))
        await server.beginShutdown()
        // The listener closes shortly after shutdown begins (how soon depends on the machine's load).
        var refused = false
        for _ in 0..<50 where !refused {
            do { _ = try await httpSend(server.url("/healthz"), method: "GET") } catch { refused = true }
            if !refused { try await Task.sleep(for: .milliseconds(100)) }
        }
        let answer = try await inFlight.value
        try await server.stop()
        #expect(answer.status == 200)
        #expect(answer.body == message)
        #expect(refused, "the listener is closed once shutdown begins")
    }

    @Test("20 clients in a loop while the engines reload: every answer is the right one",
          arguments: [ServiceConfiguration.ReloadStrategy.concurrent, .blocking])
    func reloadUnderLoad(strategy: ServiceConfiguration.ReloadStrategy) async throws {
        let server = try await HTTPTestServer.start { configuration, _ in configuration.service.reload = strategy }
        let samples = try Self.samples()
        let before = server.filter.istag
        let stop = HTTPStopFlag()
        let results = try await withThrowingTaskGroup(of: (answered: Int, unavailable: Int, wrong: [String]).self) { group in
            for client in 0..<20 {
                group.addTask {
                    var answered = 0, unavailable = 0, wrong: [String] = []
                    var round = 0
                    repeat {
                        let sample = samples[(client + round) % samples.count]
                        let answer = try await httpSend(server.url("/v1/filter?source=c\(client)-\(round)"), body: sample.body)
                        if answer.status == 503 && strategy == .blocking,
                           (try? answer.object()["error"] as? [String: Any])?["code"] as? String == "service.reloading" {
                            unavailable += 1
                            try await Task.sleep(for: .milliseconds(50))
                        } else if let problem = sample.check(answer) {
                            wrong.append(problem)
                        } else {
                            answered += 1
                        }
                        round += 1
                    } while !stop.isSet || round < 6
                    return (answered, unavailable, wrong)
                }
            }
            group.addTask {
                for _ in 0..<2 {
                    try await Task.sleep(for: .milliseconds(200))
                    try await server.filter.reload()
                }
                try await Task.sleep(for: .milliseconds(200))
                stop.set()
                return (0, 0, [])
            }
            return try await group.reduce(into: [(answered: Int, unavailable: Int, wrong: [String])]()) { $0.append($1) }
        }
        let after = server.filter.istag
        try await server.stop()
        let wrong = results.flatMap(\.wrong)
        #expect(wrong.isEmpty, "wrong answers: \(wrong.prefix(5))")
        let answered = results.map(\.answered).reduce(0, +), unavailable = results.map(\.unavailable).reduce(0, +)
        #expect(answered + unavailable >= 20 * 6)
        #expect(answered >= 20)
        if strategy == .concurrent { #expect(unavailable == 0, "a concurrent reload never stops the service") }
        #expect(before != after, "the ISTag changes with each reload")
    }
}

/// A flag the reloading task raises to end the clients' loops.
private final class HTTPStopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
