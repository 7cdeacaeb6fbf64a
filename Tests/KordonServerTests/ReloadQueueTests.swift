import Foundation
import Synchronization
import Testing
@testable import KordonServer

/// Reloads asked for at once (SIGHUP, the file watcher, an operator) run one after the
/// other: two builds never overlap, and no swap lands out of order.
/// What the bodies saw: how many were inside at once, at most, and their order.
private final class Inside: Sendable {
    let state = Mutex((now: 0, most: 0, order: [Int]()))
}

@Suite("Reloads, one at a time", .timeLimit(.minutes(10)))
struct ReloadQueueTests {
    @Test("bodies run one at a time, in the order they asked, and each gets its own result")
    func oneAtATime() async throws {
        let queue = ReloadQueue()
        let inside = Inside()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<8 {
                group.addTask {
                    try await queue.run {
                        inside.state.withLock { $0.now += 1; $0.most = max($0.most, $0.now); $0.order.append(n) }
                        try await Task.sleep(for: .milliseconds(20))  // a build: the task suspends, the turn is kept
                        inside.state.withLock { $0.now -= 1 }
                        return n
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<8))
        #expect(inside.state.withLock { $0.most } == 1)
        #expect(inside.state.withLock { $0.order.count } == 8)
    }

    @Test("a body that throws passes the turn on")
    func failurePassesTheTurn() async throws {
        struct Broken: Error {}
        let queue = ReloadQueue()
        await #expect(throws: Broken.self) { try await queue.run { throw Broken() } }
        #expect(try await queue.run { 42 } == 42)
    }

    @Test("concurrent reloads of a running service all finish, and the ISTag moves once for each")
    func concurrentReloads() async throws {
        let server = try await HTTPTestServer.start()
        let before = server.filter.istag
        let filter = server.filter
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await filter.reload() } }
            try await group.waitForAll()
        }
        defer { Task { try? await server.stop() } }
        #expect(server.filter.istag != before)
        #expect(server.filter.istag.hasPrefix("\"kordon-4-"), "\(server.filter.istag)")
        #expect(server.filter.readiness.ready && server.filter.readiness.problem == nil)
    }
}
