import Foundation
import KordonTestSupport
import KordonCore
import KordonServer
import Testing

/// The ICAP server through the real protocol: an in-process server on port 0 and a
/// plain socket client that sends exactly the bytes each case needs.
@Suite("ICAP protocol", .serialized, .timeLimit(.minutes(10)))
struct ICAPProtocolTests {
    @Test("OPTIONS advertises methods, ISTag, limits, 204, the preview and that everything is transferred")
    func options() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.options(port: port))
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.header("Methods") == "RESPMOD, REQMOD")
            #expect(response.header("ISTag") == server.filter.istag)
            #expect(response.header("ISTag")?.hasPrefix("\"") == true)
            #expect(response.header("Max-Connections") == "256")
            #expect(response.header("Options-TTL") == "300")
            #expect(response.header("Allow") == "204")
            #expect(response.header("Preview") == "4096")
            #expect(response.header("Transfer-Preview") == "*")
            #expect(response.header("Transfer-Ignore") == nil)
            #expect(response.header("Encapsulated") == "null-body=0")
            #expect(response.header("Service")?.contains("Kordon") == true)
        }
    }

    @Test("the ISTag changes when the engines reload")
    func istagChangesOnReload() async throws {
        try await withICAPServer { server in
            let port = server.port
            let ask = { @Sendable in
                try await icapBlocking {
                    let connection = try ICAPTestConnection(port: port)
                    try connection.send(ICAPTestRequest.options(port: port))
                    return try connection.readResponse().header("ISTag")
                }
            }
            let before = try await ask()
            try await Task.sleep(for: .seconds(1.1))  // the tag carries the load time in seconds
            try await server.filter.reload()
            let after = try await ask()
            #expect(before != nil && after != nil && before != after)
        }
    }

    @Test("a clean body is answered 204 when allowed, else echoed unchanged; the ISTag rides on every answer")
    func cleanBody() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let body = icapRandomBytes(20_000)
            let (allowed, echoed) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"])
                                    + ICAPTestRequest.chunked(body))
                let allowed = try connection.readResponse()
                // Same connection, no Allow: 204.
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count) + ICAPTestRequest.chunked(body))
                return (allowed, try connection.readResponse())
            }
            #expect(allowed.status == 204)
            #expect(allowed.header("ISTag") == server.filter.istag)
            #expect(allowed.body == nil)
            #expect(echoed.status == 200)
            #expect(echoed.body == body)
            #expect(echoed.responseHeader == ICAPTestRequest.httpResponse(length: body.count))
            #expect(echoed.header("ISTag") == server.filter.istag)
        }
    }

    @Test("an infected body gets an HTTP 403 page naming the rule and the quarantine id, never the content")
    func infectedBody() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let body = Array("report follows\n".utf8) + eicarBytes + Array("\nend\n".utf8)
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"])
                                    + ICAPTestRequest.chunked(body))
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.httpStatus == 403)
            #expect(response.responseHeader?.contains("Content-Type: text/html") == true)
            #expect(response.responseHeader?.contains("Content-Length: \(response.body?.count ?? -1)\r\n") == true)
            let id = try #require(response.header("X-Kordon-Quarantine-Id"))
            #expect(response.bodyText.contains("Kordon.Test.EICAR"))
            #expect(response.bodyText.contains(id))
            #expect(!response.bodyText.contains("EICAR-STANDARD"))
            #expect(response.header("X-Infection-Found")?.contains("Kordon.Test.EICAR") == true)
            #expect(try server.filter.store.record(id: id)?.verdict == .quarantined)
        }
    }

    @Test("a body that fits the preview ends with ieof and is answered at once: 204 even without Allow: 204")
    func previewWithIEOF() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let clean = Array("a small clean note\n".utf8)
            let (first, second) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: clean.count, headers: ["Preview: 4096"])
                                    + ICAPTestRequest.chunked(clean, ieof: true))
                let first = try connection.readResponse()
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: eicarBytes.count, headers: ["Preview: 4096"])
                                    + ICAPTestRequest.chunked(eicarBytes, ieof: true))
                return (first, try connection.readResponse())
            }
            #expect(first.status == 204)
            #expect(second.status == 200)
            #expect(second.httpStatus == 403)
        }
    }

    @Test("a preview without ieof gets 100 Continue and nothing else until the whole body is in")
    func previewThenContinue() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            // EICAR sits after the preview: only the full body reveals it.
            let body = icapRandomBytes(10_000) + eicarBytes
            let (continued, silent, final) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Preview: 4096", "Allow: 204"])
                                    + ICAPTestRequest.chunk(Array(body[0..<4096])) + Array("0\r\n\r\n".utf8))
                let continued = try connection.readResponse()
                let silent = connection.staysSilent(for: 0.3)
                try connection.send(ICAPTestRequest.chunked(Array(body[4096...]), size: 3000))
                return (continued, silent, try connection.readResponse())
            }
            #expect(continued.status == 100)
            #expect(silent)
            #expect(final.status == 200)
            #expect(final.httpStatus == 403)
        }
    }

    @Test("restricted data is masked: 200 with the sanitized body and a corrected Content-Length")
    func sanitizedBody() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let original = try [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/restricted/declaration-person-kz-ru.xml")))
            let expected = try #require(server.filter.pipeline?.filter(Data(original), source: "expected").output)
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: original.count, headers: ["Allow: 204"],
                                                            responseHeader: ICAPTestRequest.httpResponse(length: original.count, contentType: "application/xml"))
                                    + ICAPTestRequest.chunked(original))
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.header("X-Kordon-Verdict") == "sanitized")
            #expect(response.httpStatus == 200)
            #expect(response.body.map { Data($0) } == expected)
            #expect(response.body != original)
            let header = try #require(response.responseHeader)
            #expect(header.contains("Content-Length: \(expected.count)\r\n"))
            #expect(!header.contains("Content-Length: \(original.count)\r\n"))
            #expect(!header.contains("ETag"))
            #expect(header.contains("Content-Type: application/xml"))
        }
    }

    @Test("REQMOD: an infected upload is answered with a 403 response; a request without a body passes")
    func reqmod() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let clean = Array("a clean upload, plain text\n".utf8)
            let (blocked, bodiless, passed) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.reqmod(port: port, bodyLength: eicarBytes.count, headers: ["Allow: 204"])
                                    + ICAPTestRequest.chunked(eicarBytes))
                let blocked = try connection.readResponse()
                try connection.send(ICAPTestRequest.reqmod(port: port, bodyLength: nil, headers: ["Allow: 204"]))
                let bodiless = try connection.readResponse()
                try connection.send(ICAPTestRequest.reqmod(port: port, bodyLength: clean.count) + ICAPTestRequest.chunked(clean))
                return (blocked, bodiless, try connection.readResponse())
            }
            #expect(blocked.status == 200)
            #expect(blocked.httpStatus == 403)
            #expect(blocked.requestHeader == nil)
            #expect(bodiless.status == 204)
            #expect(passed.status == 200)
            #expect(passed.requestHeader?.hasPrefix("POST http://origin.test/upload HTTP/1.1\r\n") == true)
            #expect(passed.body == clean)
        }
    }

    @Test("an object over the size limit is blocked as unchecked, never answered 204 unscanned")
    func oversizedObject() async throws {
        try await withICAPServer({ $0.limits.maxMessageSize = 64 * 1024 }) { server in
            let port = server.port
            let body = icapRandomBytes(200 * 1024)
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"])
                                    + ICAPTestRequest.chunked(body, size: 32 * 1024))
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.httpStatus == 403)
            #expect(response.bodyText.contains("kordon.message-size"))
            #expect(response.bodyText.contains("unchecked"))
            let decisions = try auditEntries(of: server.filter).filter { ($0["rules"] as? [String]) == ["kordon.message-size"] }
            #expect(decisions.count == 1 && decisions.first?["event"] as? String == "decision")
        }
    }

    @Test("the route comes from X-Kordon-From and X-Kordon-To; a malformed one is refused")
    func route() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let (good, bad) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: eicarBytes.count, headers: ["Allow: 204", "X-Kordon-From: kz", "X-Kordon-To: RU"])
                                    + ICAPTestRequest.chunked(eicarBytes))
                let good = try connection.readResponse()
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: eicarBytes.count, headers: ["X-Kordon-From: K Z"])
                                    + ICAPTestRequest.chunked(eicarBytes))
                return (good, try connection.readResponse())
            }
            let id = try #require(good.header("X-Kordon-Quarantine-Id"))
            #expect(try server.filter.store.record(id: id)?.route == .init(from: "KZ", to: "RU"))
            #expect(bad.status == 400)
        }
    }
    @Test("a request that arrives one byte at a time is read the same as one that arrives at once")
    func byteAtATime() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let body = Array("clean text, ".utf8) + eicarBytes
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                let bytes = ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"]) + ICAPTestRequest.chunked(body, size: 7)
                for byte in bytes { try connection.send([byte]) }
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.httpStatus == 403)
        }
    }
}
