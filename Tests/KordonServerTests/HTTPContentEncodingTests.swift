import Foundation
import KordonTestSupport
import KordonCore
import KordonServer
import Testing

/// `POST /v1/filter` with a `Content-Encoding`: the decoded message is filtered; a body
/// that cannot be decoded is refused with the report; a clean one comes back as it was sent.
/// Sent with curl (which, unlike URLSession, neither adds nor undoes codings on its own).
@Suite("HTTP API: Content-Encoding", .timeLimit(.minutes(10)))
struct HTTPContentEncodingTests {
    static let cleanPage = Data((0..<200).map { "line \($0) of a clean page about customs tariffs\n" }.joined().utf8)
    static let infectedPage = cleanPage + eicar + cleanPage

    /// What curl got back: status, headers (lowercased names) and the body byte for byte.
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        func report() throws -> Report { try JSONDecoder().decode(Report.self, from: body) }
    }

    /// Posts `body` with `Content-Encoding: encoding` (none when `nil`).
    static func post(_ server: HTTPTestServer, _ body: Data, encoding: String?, contentType: String = "text/plain") async throws -> Answer {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-http-coding-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let input = scratch.appendingPathComponent("in"), output = scratch.appendingPathComponent("out"), head = scratch.appendingPathComponent("head")
        try body.write(to: input)
        var arguments = ["-sS", "-o", output.path, "-D", head.path, "-w", "%{http_code}", "--data-binary", "@\(input.path)",
                         "-H", "Content-Type: \(contentType)", "-H", "Expect:"]
        if let encoding { arguments += ["-H", "Content-Encoding: \(encoding)"] }
        let (status, stdout, stderr) = try await httpRun("/usr/bin/curl", arguments + [server.url("/v1/filter").absoluteString])
        guard status == 0, let code = Int(String(decoding: stdout, as: UTF8.self)) else { throw CodingError(description: "curl: \(stderr)") }
        var headers: [String: String] = [:]
        for line in String(decoding: try Data(contentsOf: head), as: UTF8.self).components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: code, headers: headers, body: try Data(contentsOf: output))
    }

    @Test("EICAR sent with a content coding: 403 with the report naming the virus",
          arguments: ["gzip", "x-gzip", "deflate", "deflate-raw", "br", "zstd", "gzip, zstd"])
    func infectedEncoded(_ coding: String) async throws {
        let server = try await HTTPSharedServer.get()
        let body = try await contentCoded(Self.infectedPage, coding)
        #expect(!body.contains(eicar))
        let answer = try await Self.post(server, body, encoding: contentEncodingHeader(coding))
        #expect(answer.status == 403, "\(coding)")
        #expect(answer.headers["kordon-verdict"] == "quarantined")
        let report = try answer.report()
        #expect(report.findings.contains { $0.stage == .virus && $0.rule.contains("EICAR") }, "\(coding)")
    }

    @Test("a clean body with a content coding: 200 with the bytes as sent and their Content-Encoding",
          arguments: ["gzip", "deflate", "br", "zstd"])
    func cleanEncoded(_ coding: String) async throws {
        let server = try await HTTPSharedServer.get()
        let body = try await contentCoded(Self.cleanPage, coding)
        let answer = try await Self.post(server, body, encoding: coding)
        #expect(answer.status == 200)
        #expect(answer.headers["kordon-verdict"] == "clean")
        #expect(answer.body == body)
        #expect(answer.headers["content-encoding"] == coding)
    }

    @Test("a sanitized body comes back decoded, without Content-Encoding")
    func sanitizedEncoded() async throws {
        let server = try await HTTPSharedServer.get()
        let original = try httpRestrictedFixture("declaration-person-kz-ru.xml")
        let answer = try await Self.post(server, try await contentCoded(original, "gzip"), encoding: "gzip", contentType: "application/xml")
        #expect(answer.status == 200)
        #expect(answer.headers["kordon-verdict"] == "sanitized")
        #expect(answer.headers["content-encoding"] == nil)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("<csdo:SubjectName>"))
        #expect(!String(decoding: answer.body, as: UTF8.self).contains("791028302728"))
    }

    @Test("an unknown coding, or one that does not decode, is refused as unchecked",
          arguments: [("compress", "http.content-encoding-unknown"), ("gzip, snappy", "http.content-encoding-unknown"),
                      ("gzip", "http.content-encoding-corrupt"), ("br", "http.content-encoding-corrupt")])
    func undecodable(_ coding: String, _ rule: String) async throws {
        let server = try await HTTPSharedServer.get()
        let answer = try await Self.post(server, Self.cleanPage, encoding: coding)
        #expect(answer.status == 403, "\(coding)")
        let report = try answer.report()
        #expect(report.verdict == .quarantined)
        #expect(report.findings.contains { $0.stage == .unchecked && $0.rule == rule && $0.part == "message" }, "\(coding)")
    }

    @Test("a decoding bomb over limits.maxMessageSize is refused as unchecked; one that fits is decoded and passes")
    func bomb() async throws {
        let server = try await HTTPTestServer.start { configuration, _ in configuration.limits.maxMessageSize = 4 << 20 }
        do {
            let bomb = try await gzipBomb(size: 256 << 20)
            let started = ContinuousClock.now
            let refused = try await Self.post(server, bomb, encoding: "gzip")
            #expect(refused.status == 403)
            #expect(try refused.report().findings.contains { $0.rule == "http.content-encoding-bomb" && $0.stage == .unchecked })
            // A hang guard, not a speed target: libclamav still unpacks the raw gzip it is sent
            // (a few seconds of a debug build on a loaded 2-core machine).
            #expect(ContinuousClock.now - started < .seconds(30))
            let fits = try await Self.post(server, try await gzipBomb(size: 2 << 20), encoding: "gzip")
            #expect(fits.status == 200)
            #expect(fits.headers["kordon-verdict"] == "clean")
        } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }
}
