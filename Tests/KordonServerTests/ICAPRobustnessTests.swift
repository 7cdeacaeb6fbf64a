import Foundation
import KordonTestSupport
import KordonServer
import Testing

/// Bad input, overload, auth, connection limits and shutdown: each answered, none hangs.
@Suite("ICAP robustness", .serialized, .timeLimit(.minutes(10)))
struct ICAPRobustnessTests {
    /// Sends `bytes` on a fresh connection; returns the answer and whether the server then closed.
    private func exchange(_ port: Int, _ bytes: [UInt8]) async throws -> (ICAPTestResponse, closed: Bool) {
        try await icapBlocking {
            let connection = try ICAPTestConnection(port: port, timeout: 5)
            try connection.send(bytes)
            let response = try connection.readResponse()
            return (response, connection.isClosedByServer())
        }
    }

    @Test("malformed requests get their status and the connection is closed")
    func malformed() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let body = ICAPTestRequest.chunked(Array("x".utf8))
            let cases: [(String, [UInt8], Int)] = [
                ("garbage request line", Array("HELLO\r\n\r\n".utf8), 400),
                ("unsupported version", Array("OPTIONS icap://127.0.0.1/kordon ICAP/2.0\r\n\r\n".utf8), 505),
                ("unknown method", Array("LOG icap://127.0.0.1/kordon ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n".utf8), 501),
                ("not an ICAP URI", Array("OPTIONS http://127.0.0.1/kordon ICAP/1.0\r\n\r\n".utf8), 400),
                ("RESPMOD without Encapsulated", Array("RESPMOD icap://127.0.0.1/kordon ICAP/1.0\r\nHost: x\r\n\r\n".utf8), 400),
                ("Encapsulated out of order", ICAPTestRequest.head("RESPMOD", port: port, service: "kordon", encapsulated: "res-hdr=0, req-hdr=10, res-body=20", headers: []), 400),
                ("two bodies", ICAPTestRequest.head("REQMOD", port: port, service: "kordon", encapsulated: "req-body=0, null-body=0", headers: []), 400),
                ("section offsets that miss the empty line", ICAPTestRequest.head("RESPMOD", port: port, service: "kordon", encapsulated: "res-hdr=0, res-body=10", headers: []) + Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + body, 400),
                ("bare LF inside an HTTP header", ICAPTestRequest.head("RESPMOD", port: port, service: "kordon", encapsulated: "res-hdr=0, res-body=26", headers: []) + Array("HTTP/1.1 200 OK\nX-A: b\r\n\r\n".utf8) + body, 400),
                ("folded header", Array("OPTIONS icap://127.0.0.1/kordon ICAP/1.0\r\nHost: a\r\n b\r\n\r\n".utf8), 400),
                ("bad chunk size", ICAPTestRequest.respmod(port: port, bodyLength: 1) + Array("zz\r\nx\r\n0\r\n\r\n".utf8), 400),
                ("chunk longer than its size", ICAPTestRequest.respmod(port: port, bodyLength: 1) + Array("1\r\nxyz\r\n0\r\n\r\n".utf8), 400),
                ("bare LF after chunk size", ICAPTestRequest.respmod(port: port, bodyLength: 1) + Array("1\nx\r\n0\r\n\r\n".utf8), 400),
                ("head larger than 64 KiB", Array(("OPTIONS icap://127.0.0.1/kordon ICAP/1.0\r\nX-Pad: " + String(repeating: "a", count: 70_000)).utf8), 400),
                ("preview size out of range", ICAPTestRequest.respmod(port: port, bodyLength: 1, headers: ["Preview: -1"]) + body, 400),
            ]
            for (name, bytes, status) in cases {
                let (response, closed) = try await exchange(port, bytes)
                #expect(response.status == status, "\(name)")
                #expect(closed, "\(name): the connection should be closed")
                #expect(response.header("ISTag") != nil, "\(name)")
            }
        }
    }

    @Test("an unknown service is 404 and the connection stays usable")
    func unknownService() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let body = Array("x".utf8)
            let (missing, options) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, service: "virus_scan") + ICAPTestRequest.chunked(body))
                let missing = try connection.readResponse()
                try connection.send(ICAPTestRequest.options(port: port))
                return (missing, try connection.readResponse())
            }
            #expect(missing.status == 404)
            #expect(options.status == 200)
        }
    }

    @Test("requests sent back to back on one connection are answered in order")
    func pipelined() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let responses = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: eicarBytes.count, headers: ["Allow: 204"])
                                    + ICAPTestRequest.chunked(eicarBytes)
                                    + ICAPTestRequest.options(port: port)
                                    + ICAPTestRequest.respmod(port: port, bodyLength: 5, headers: ["Allow: 204"]) + ICAPTestRequest.chunked(Array("clean".utf8)))
                return try (0..<3).map { _ in try connection.readResponse() }
            }
            #expect(responses.map(\.status) == [200, 200, 204])
            #expect(responses[0].httpStatus == 403)
            #expect(responses[1].header("Methods") != nil)
        }
    }

    @Test("a full queue is answered 503 at once, never a hang: every client gets an answer")
    func busy() async throws {
        // 16 copies of one body: with the verdict cache off, each must reach the pool.
        try await withICAPServer({ $0.service.threads = 1; $0.service.queue = 1; $0.service.cache.entries = 0 }) { server in
            let port = server.port
            let body = ICAPTestRequest.chunked(icapRandomBytes(2 << 20), size: 65536)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        try await icapBlocking {
                            let connection = try ICAPTestConnection(port: port, timeout: 60)
                            try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: 2 << 20, headers: ["Allow: 204"]) + body)
                            return try connection.readResponse().status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.count == 16)
            #expect(statuses.allSatisfy { $0 == 204 || $0 == 503 })
            #expect(statuses.contains(503))
            #expect(statuses.contains(204))
        }
    }

    @Test("with a bearer token file, REQMOD and RESPMOD need Authorization: Bearer; OPTIONS stays open")
    func bearerToken() async throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("icap-token-\(UUID().uuidString)")
        try "s3cret-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        try await withICAPServer({ $0.service.http.bearerTokenFile = tokenFile.path }) { server in
            let port = server.port
            let body = ICAPTestRequest.chunked(Array("clean".utf8))
            let request = { (headers: [String]) in ICAPTestRequest.respmod(port: port, bodyLength: 5, headers: ["Allow: 204"] + headers) + body }
            let requests = [request([]), request(["Authorization: Bearer s3cret-tokem"]), request(["Authorization: Bearer s3cret"]),
                            request(["Authorization: Basic czNjcmV0LXRva2Vu"]), request(["Authorization: Bearer s3cret-token"]),
                            ICAPTestRequest.options(port: port)]
            let statuses = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                var statuses: [Int] = []
                for bytes in requests {
                    try connection.send(bytes)
                    statuses.append(try connection.readResponse().status)
                }
                return statuses
            }
            #expect(statuses == [401, 401, 401, 401, 204, 200])
        }
    }

    @Test("connections beyond Max-Connections are answered 503 and closed")
    func maxConnections() async throws {
        try await withICAPServer({ $0.service.icap.maxConnections = 2 }) { server in
            let port = server.port
            let (third, afterwards) = try await icapBlocking {
                let first = try ICAPTestConnection(port: port), second = try ICAPTestConnection(port: port)
                try first.send(ICAPTestRequest.options(port: port))
                try second.send(ICAPTestRequest.options(port: port))
                _ = try first.readResponse()
                _ = try second.readResponse()
                let third = try ICAPTestConnection(port: port)
                let refused = try third.readResponse()
                withExtendedLifetime(first) {}
                withExtendedLifetime(second) {}
                return (refused, third.isClosedByServer())
            }
            #expect(third.status == 503)
            #expect(afterwards)
        }
    }

    @Test("graceful shutdown stops accepting and lets the request in flight finish")
    func gracefulShutdown() async throws {
        let server = try await ICAPTestServer.start()
        let port = server.port
        let body = icapRandomBytes(10_000)
        let connection = try await icapBlocking { () -> ICAPTestConnectionBox in
            let connection = try ICAPTestConnection(port: port)
            try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Preview: 100", "Allow: 204"])
                                + ICAPTestRequest.chunk(Array(body[0..<100])) + Array("0\r\n\r\n".utf8))
            guard try connection.readResponse().status == 100 else { throw ICAPTestError(description: "no 100 Continue") }
            return ICAPTestConnectionBox(connection)
        }
        let stopping = Task { await server.stop() }
        try await Task.sleep(for: .milliseconds(300))
        let refused = (try? await icapBlocking { _ = try ICAPTestConnection(port: port, timeout: 2) }) == nil
        let (final, closed) = try await icapBlocking {
            try connection.value.send(ICAPTestRequest.chunked(Array(body[100...])))
            return (try connection.value.readResponse(), connection.value.isClosedByServer())
        }
        await stopping.value
        #expect(refused)
        #expect(final.status == 204)
        #expect(final.header("Connection") == "close")
        #expect(closed)
    }
}

/// Hands a connection from one blocking closure to the next (used by one thread at a time).
final class ICAPTestConnectionBox: @unchecked Sendable {
    let value: ICAPTestConnection
    init(_ value: ICAPTestConnection) { self.value = value }
}
