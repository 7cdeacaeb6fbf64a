import Foundation
import KordonCore
import Testing
@testable import KordonServer

/// How a body's codings are read from its header fields and undone.
@Suite("HTTP content codings", .timeLimit(.minutes(10)))
struct HTTPContentCodingTests {
    @Test("codings are read as lists, case-insensitively, identity and chunked left out, transfer codings last",
          arguments: [
              (["gzip"], [], ["gzip"]),
              (["gzip, br"], [], ["gzip", "br"]),
              (["gzip", "br"], [], ["gzip", "br"]),
              ([" GZIP ,, identity"], [], ["gzip"]),
              (["identity"], ["chunked"], []),
              (["br"], ["gzip, chunked"], ["br", "gzip"]),
              ([], [], []),
          ] as [([String], [String], [String])])
    func readsCodings(_ contentEncoding: [String], _ transferEncoding: [String], _ expected: [String]) {
        #expect(HTTPContentCoding.codings(contentEncoding: contentEncoding, transferEncoding: transferEncoding) == expected)
    }

    @Test("codings are undone last first")
    func undoneInReverse() async throws {
        let message = Data("the message under two codings".utf8)
        let body = try await contentCoded(message, "gzip, br")
        guard case .decoded(let decoded, _) = HTTPContentCoding.decode(body, codings: ["gzip", "br"], limit: 1 << 20) else {
            Issue.record("gzip, br did not decode")
            return
        }
        #expect(decoded == message)
        // The same body read in the wrong order does not decode.
        guard case .held(let finding) = HTTPContentCoding.decode(body, codings: ["br", "gzip"], limit: 1 << 20) else {
            Issue.record("br, gzip decoded a body coded gzip then br")
            return
        }
        #expect(finding.rule == "http.content-encoding-corrupt")
    }

    @Test("an empty body is empty in any coding (a HEAD or 304 answer)")
    func emptyBody() {
        guard case .decoded(let decoded, _) = HTTPContentCoding.decode(Data(), codings: ["gzip"], limit: 100) else {
            Issue.record("an empty gzip body was held")
            return
        }
        #expect(decoded.isEmpty)
    }

    @Test("an unknown coding is named in the finding without digits: a header is the sender's text")
    func unknownCodingDetail() {
        guard case .held(let finding) = HTTPContentCoding.decode(Data("x".utf8), codings: ["x-870612300012"], limit: 100) else {
            Issue.record("an unknown coding was not held")
            return
        }
        #expect(finding.stage == .unchecked)
        #expect(finding.rule == "http.content-encoding-unknown")
        #expect(finding.part == "message")
        #expect(!finding.detail.contains("870612300012"))
        #expect(finding.detail.contains("x-"))
    }
}
