import Foundation
import KordonTestSupport
import KordonServer
import Testing

/// ICAP bodies with a Content-Encoding: the decoded message is what is filtered; a body
/// that cannot be decoded is held; what passes is the original (clean) or the sanitized
/// message decoded (sanitized).
@Suite("ICAP Content-Encoding", .timeLimit(.minutes(10)))
struct ICAPContentEncodingTests {
    /// A clean plain-text page (HTML would be taken for XML without a schema), long enough to compress.
    static let cleanPage = Data((0..<200).map { "line \($0) of a clean page about customs tariffs\n" }.joined().utf8)
    /// EICAR inside that page: every encoder then really compresses it (zstd stores a lone EICAR as is).
    static let infectedPage = cleanPage + eicar + cleanPage

    /// An encapsulated HTTP response header for a body of `length` bytes with `encoding`.
    static func responseHeader(length: Int, encoding: String?, contentType: String = "application/octet-stream") -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: \(contentType)\r\n" + (encoding.map { "Content-Encoding: \($0)\r\n" } ?? "")
            + "Content-Length: \(length)\r\nETag: \"abc\"\r\nVary: Accept-Encoding\r\n\r\n"
    }

    /// A RESPMOD of `body` as sent by an origin with `Content-Encoding: encoding`, answered by `port`.
    static func respmod(_ port: Int, body: Data, encoding: String?, contentType: String = "application/octet-stream",
                        allow204: Bool = true) async throws -> ICAPTestResponse {
        let bytes = [UInt8](body)
        let request = ICAPTestRequest.respmod(port: port, bodyLength: bytes.count, headers: allow204 ? ["Allow: 204"] : [],
                                              responseHeader: responseHeader(length: bytes.count, encoding: encoding, contentType: contentType))
            + ICAPTestRequest.chunked(bytes)
        return try await icapBlocking {
            let connection = try ICAPTestConnection(port: port)
            try connection.send(request)
            return try connection.readResponse()
        }
    }

    @Test("EICAR served with a content coding is blocked: 403 page, never 204",
          arguments: ["gzip", "x-gzip", "deflate", "deflate-raw", "br", "zstd", "gzip, br", "identity, zstd"])
    func infectedEncoded(_ coding: String) async throws {
        try await withSharedICAPServer { server in
            let body = try await contentCoded(Self.infectedPage, coding.replacingOccurrences(of: "identity, ", with: ""))
            #expect(!body.contains(eicar))
            let response = try await Self.respmod(server.port, body: body, encoding: contentEncodingHeader(coding))
            #expect(response.status == 200, "\(coding)")
            #expect(response.httpStatus == 403, "\(coding)")
            #expect(response.header("X-Kordon-Verdict") == "quarantined")
            #expect(response.header("X-Infection-Found")?.contains("EICAR") == true, "\(coding): the virus is named")
        }
    }

    @Test("a transfer coding other than chunked on the encapsulated response is undone too")
    func transferCoding() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            // brotli, which libclamav does not unpack on its own (it does gzip).
            let body = [UInt8](try await contentCoded(Self.infectedPage, "br"))
            let header = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: br, chunked\r\n\r\n"
            let request = ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"], responseHeader: header)
                + ICAPTestRequest.chunked(body)
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(request)
                return try connection.readResponse()
            }
            #expect(response.httpStatus == 403)
            #expect(response.header("X-Infection-Found")?.contains("EICAR") == true)
        }
    }

    @Test("REQMOD: an upload sent gzip-encoded with EICAR inside is blocked")
    func infectedUpload() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let body = [UInt8](try await contentCoded(Self.infectedPage, "gzip"))
            let upload = "POST http://origin.test/upload HTTP/1.1\r\nHost: origin.test\r\nContent-Encoding: gzip\r\nContent-Length: \(body.count)\r\n\r\n"
            let request = ICAPTestRequest.head("REQMOD", port: port, service: "kordon", encapsulated: "req-hdr=0, req-body=\(upload.utf8.count)",
                                               headers: ["Allow: 204"]) + Array(upload.utf8) + ICAPTestRequest.chunked(body)
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(request)
                return try connection.readResponse()
            }
            #expect(response.httpStatus == 403)
            #expect(response.header("X-Kordon-Verdict") == "quarantined")
        }
    }

    @Test("a clean body with a content coding passes: 204, or without Allow: 204 its encoded bytes and headers unchanged",
          arguments: ["gzip", "deflate", "br", "zstd"])
    func cleanEncoded(_ coding: String) async throws {
        try await withSharedICAPServer { server in
            let body = try await contentCoded(Self.cleanPage, coding)
            let passed = try await Self.respmod(server.port, body: body, encoding: coding)
            #expect(passed.status == 204, "\(coding)")
            let echoed = try await Self.respmod(server.port, body: body, encoding: coding, allow204: false)
            #expect(echoed.status == 200)
            #expect(echoed.body.map { Data($0) } == body, "the encoded bytes pass as they came")
            #expect(echoed.responseHeader?.contains("Content-Encoding: \(coding)\r\n") == true)
            #expect(echoed.header("X-Kordon-Verdict") == "clean")
        }
    }

    @Test("a sanitized body passes decoded: Content-Encoding removed, Content-Length that of the decoded body")
    func sanitizedEncoded() async throws {
        try await withSharedICAPServer { server in
            let original = try Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/restricted/declaration-person-kz-ru.xml"))
            let expected = try #require(server.filter.pipeline?.filter(original, source: "expected").output)
            let body = try await contentCoded(original, "gzip")
            let response = try await Self.respmod(server.port, body: body, encoding: "gzip", contentType: "application/xml")
            #expect(response.header("X-Kordon-Verdict") == "sanitized")
            #expect(response.body.map { Data($0) } == expected)
            let header = try #require(response.responseHeader)
            #expect(!header.lowercased().contains("content-encoding"))
            #expect(header.contains("Content-Length: \(expected.count)\r\n"))
            #expect(!header.contains("ETag"))
        }
    }

    @Test("a body that cannot be decoded is held as unchecked, never 204",
          arguments: [("compress", "http.content-encoding-unknown"), ("dcb", "http.content-encoding-unknown"),
                      ("gzip, gzip, gzip, gzip, gzip", "http.content-encoding-unknown"),
                      ("gzip-cut", "http.content-encoding-corrupt"), ("br-garbage", "http.content-encoding-corrupt"),
                      ("zstd-garbage", "http.content-encoding-corrupt"), ("deflate-garbage", "http.content-encoding-corrupt")])
    func undecodable(_ coding: String, _ rule: String) async throws {
        try await withSharedICAPServer { server in
            let page = Data("a clean page, but its coding cannot be undone".utf8)
            let body: Data, header: String
            switch coding {
            case "gzip-cut":
                body = try await contentCoded(page, "gzip").dropLast(6)
                header = "gzip"
            case let garbage where garbage.hasSuffix("-garbage"):
                body = page
                header = String(garbage.dropLast("-garbage".count))
            default:
                body = page
                header = coding
            }
            let response = try await Self.respmod(server.port, body: body, encoding: header)
            #expect(response.status == 200, "\(coding)")
            #expect(response.httpStatus == 403, "\(coding)")
            #expect(response.header("X-Kordon-Rules")?.contains(rule) == true, "\(coding): \(response.header("X-Kordon-Rules") ?? "no rules")")
        }
    }

    @Test("a decoded body counts against the bound on bodies held at once: over it, 503 and try again")
    func decodedBodyCountsAgainstTheBudget() async throws {
        let server = try await ICAPTestServer.start(bufferBudget: 1 << 20)
        do {
            // 300 KB on the wire, 2 MB decoded: the body fits the budget, the decoded message does not.
            let response = try await Self.respmod(server.port, body: try await gzipBomb(size: 2 << 20), encoding: "gzip")
            #expect(response.status == 503)
            #expect(response.header("Retry-After") == "1")
            // Decoded within the budget, the same kind of body passes.
            let fits = try await Self.respmod(server.port, body: try await contentCoded(Self.cleanPage, "gzip"), encoding: "gzip")
            #expect(fits.status == 204)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test("a decoding bomb (gzip of more zeros than limits.maxMessageSize) is held, and decoding stops at the limit")
    func bomb() async throws {
        try await withICAPServer({ $0.limits.maxMessageSize = 4 << 20 }) { server in
            let bomb = try await gzipBomb(size: 256 << 20)
            #expect(bomb.count < 1 << 20)
            let started = ContinuousClock.now
            let response = try await Self.respmod(server.port, body: bomb, encoding: "gzip")
            #expect(response.httpStatus == 403)
            #expect(response.header("X-Kordon-Rules")?.contains("http.content-encoding-bomb") == true)
            #expect(ContinuousClock.now - started < .seconds(10))
            // Within the limit, the same kind of body is decoded and passes.
            let fits = try await Self.respmod(server.port, body: try await gzipBomb(size: 2 << 20), encoding: "gzip")
            #expect(fits.status == 204)
        }
    }
}
