import Foundation
import KordonTestSupport
import KordonCore
import KordonServer
import Testing

/// The verdict cache, through the ICAP server: the same clean bytes are not scanned
/// twice by the same engines, every decision is still audited, and nothing but a
/// clean verdict is ever taken from it.
@Suite("ICAP verdict cache", .serialized, .timeLimit(.minutes(10)))
struct ICAPVerdictCacheTests {
    @Test("the same clean body twice: the second answer comes from the cache, and both decisions are audited")
    func cleanBodyTwice() async throws {
        try await withICAPServer { server in
            let body = icapRandomBytes(30_000, seed: 11)
            let auditBefore = server.filter.audit.count
            let statuses = try await Self.respmod(port: server.port, bodies: [body, body, icapRandomBytes(30_000, seed: 12)])
            #expect(statuses == [204, 204, 204])
            #expect(Self.cacheHits(server) == 1, "only the repeated body is answered from the cache")
            #expect(server.filter.audit.count == auditBefore + 3)
        }
    }

    @Test("held and sanitized messages are never answered from the cache: each is scanned and stored again")
    func onlyCleanIsCached() async throws {
        try await withICAPServer { server in
            let infected = Array("attachment\n".utf8) + eicarBytes
            let restricted = try [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/restricted/declaration-person-kz-ru.xml")))
            let answers = try await icapBlocking {
                let connection = try ICAPTestConnection(port: server.port)
                var answers: [ICAPTestResponse] = []
                for body in [infected, infected, restricted, restricted] {
                    try connection.send(ICAPTestRequest.respmod(port: server.port, bodyLength: body.count, headers: ["Allow: 204"])
                                        + ICAPTestRequest.chunked(body))
                    answers.append(try connection.readResponse())
                }
                return answers
            }
            #expect(answers.map(\.httpStatus) == [403, 403, 200, 200])
            #expect(answers.map { $0.header("X-Kordon-Verdict") }.suffix(2) == ["sanitized", "sanitized"])
            let ids = answers.compactMap { $0.header("X-Kordon-Quarantine-Id") }
            #expect(ids.count == 4 && Set(ids).count == 4, "each original was stored: the infected one twice, the restricted one twice")
            for id in ids { #expect(try server.filter.store.record(id: id) != nil) }
            #expect(Self.cacheHits(server) == 0)
        }
    }

    @Test("a reload empties the cache: bytes cached clean are scanned again with the new signatures and held")
    func reloadEmptiesTheCache() async throws {
        let signatures = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-cache-sigs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: signatures, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: signatures) }
        let probe = Array("a harmless file today, a known threat after the next signature update".utf8)
        try Self.writeSignature(named: "Kordon.Test.Unrelated", for: Array("nothing in this test carries this".utf8), in: signatures)
        try await withICAPServer({ $0.signatures.directories = [signatures.path] }) { server in
            let before = try await Self.respmod(port: server.port, bodies: [probe, probe])
            #expect(before == [204, 204])
            #expect(Self.cacheHits(server) == 1)
            try Self.writeSignature(named: "Kordon.Test.CacheProbe", for: probe, in: signatures)
            try await server.filter.reload()
            let after = try await Self.respmod(port: server.port, bodies: [probe])
            #expect(after == [200], "an ICAP 200 carrying the HTTP 403 page, not a cached 204")
            #expect(Self.cacheHits(server) == 1)
        }
    }

    @Test("with serve.cache.entries 0 every body is scanned")
    func cacheOff() async throws {
        try await withICAPServer({ $0.service.cache.entries = 0 }) { server in
            let body = icapRandomBytes(10_000, seed: 13)
            let statuses = try await Self.respmod(port: server.port, bodies: [body, body, body])
            #expect(statuses == [204, 204, 204])
            #expect(Self.cacheHits(server) == 0)
        }
    }

    /// RESPMOD with Allow: 204 for each body on one connection; the ICAP statuses.
    private static func respmod(port: Int, bodies: [[UInt8]]) async throws -> [Int] {
        try await icapBlocking {
            let connection = try ICAPTestConnection(port: port)
            return try bodies.map { body in
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"])
                                    + ICAPTestRequest.chunked(body))
                return try connection.readResponse().status
            }
        }
    }

    /// `kordon_verdict_cache_hits_total` as `/metrics` shows it.
    private static func cacheHits(_ server: ICAPTestServer) -> Int {
        let line = server.filter.metrics.exposition().split(separator: "\n")
            .first { $0.hasPrefix("kordon_verdict_cache_hits_total ") }
        return line.flatMap { Int($0.split(separator: " ")[1]) } ?? -1
    }

    /// A ClamAV body signature (`.ndb`) for `bytes`, in its own file.
    private static func writeSignature(named name: String, for bytes: [UInt8], in directory: URL) throws {
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        try Data("\(name):0:*:\(hex)\n".utf8).write(to: directory.appendingPathComponent("\(name).ndb"))
    }
}
