import Foundation
import Logging
import Kordon
import KordonCore
import NIOCore
import Testing
@testable import KordonServer

/// The pieces of the ICAP codec on their own: Encapsulated, chunk-size lines, the
/// head parser, HTTP header editing, the token check and the block page.
@Suite("ICAP codec", .timeLimit(.minutes(10)))
struct ICAPCodecTests {
    @Test("Encapsulated: offsets from 0, increasing, headers in order, one body at the end")
    func encapsulated() {
        let respmod = ICAPEncapsulated("req-hdr=0, res-hdr=137, res-body=296")
        #expect(respmod == ICAPEncapsulated("req-hdr=0,res-hdr=137,res-body=296"))
        #expect(respmod?.requestHeader == 0 && respmod?.responseHeader == 137 && respmod?.body == .response && respmod?.bodyOffset == 296)
        #expect(respmod?.suits(.respmod) == true && respmod?.suits(.reqmod) == false)
        #expect(ICAPEncapsulated("null-body=0")?.suits(.options) == true)
        #expect(ICAPEncapsulated("req-hdr=0, null-body=170")?.suits(.reqmod) == true)
        for bad in ["", "res-body", "req-hdr=5, null-body=9", "res-hdr=0, req-hdr=10, res-body=20", "req-hdr=0, req-hdr=10, null-body=20",
                    "req-hdr=0, res-hdr=0, res-body=5", "req-body=0, null-body=0", "x-hdr=0, null-body=4", "req-hdr=0, req-body=-1",
                    "req-hdr=0, null-body=99999999999", "req-hdr=0, res-hdr=10, res-body=20, null-body=30"] {
            #expect(ICAPEncapsulated(bad) == nil, "\(bad)")
        }
    }

    @Test("chunk-size lines: hexadecimal, extensions, ieof, bounded")
    func chunkSize() {
        let parse = { (text: String) in ICAPDecoder.chunkSize(ByteBuffer(string: text)) }
        #expect(parse("1a2B")! == (0x1a2b, false))
        #expect(parse("0; ieof")! == (0, true))
        #expect(parse("0;IEOF")! == (0, true))
        #expect(parse("10 ;name=value")! == (16, false))
        for bad in ["", "g", "-1", " 5", "1 2", "ffffffffffffff"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
    }

    @Test("the head parser names the service, reads Preview and refuses what is ambiguous")
    func headParser() throws {
        let text = "RESPMOD icap://proxy.test:1344/kordon?mode=strict ICAP/1.0\r\nHost: proxy.test\r\nAllow: trailers, 204\r\n"
            + "Preview: 1024\r\nEncapsulated: req-hdr=0, res-hdr=40, res-body=80\r\n\r\n"
        let head = try ICAPHeadParser.parse(text, limits: ICAPLimits()).get()
        #expect(head.method == .respmod && head.service == "kordon" && head.preview == 1024 && head.allows204)
        #expect(ICAPHeadParser.serviceName("icap://host") == "")
        #expect(ICAPHeadParser.serviceName("icaps://host:11344/kordon") == "kordon")
        #expect(ICAPHeadParser.serviceName("http://host/kordon") == nil)
        let problem = { (text: String) -> ICAPStatus? in
            if case .failure(let problem) = ICAPHeadParser.parse(text, limits: ICAPLimits()) { problem.status } else { nil }
        }
        #expect(problem("OPTIONS icap://h/kordon ICAP/1.1\r\n\r\n") == .versionNotSupported)
        #expect(problem("PURGE icap://h/kordon ICAP/1.0\r\n\r\n") == .notImplemented)
        #expect(problem("OPTIONS  icap://h/kordon ICAP/1.0\r\n\r\n") == .badRequest)
        #expect(problem("OPTIONS icap://h/kordon ICAP/1.0\r\nBad Name: x\r\n\r\n") == .badRequest)
        #expect(problem("OPTIONS icap://h/kordon ICAP/1.0\r\nNoColon\r\n\r\n") == .badRequest)
        #expect(problem("OPTIONS icap://h/kordon ICAP/1.0\r\n" + String(repeating: "X: y\r\n", count: 200) + "\r\n") == .badRequest)
        #expect(problem("OPTIONS icap://h/kordon ICAP/1.0\r\n\r\n") == nil)
    }

    @Test("HTTP header blocks: echoed byte for byte, body fields replaced")
    func headerBlock() throws {
        let raw = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\ncontent-length: 10\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\nX-Other: a:b\r\n\r\n"
        var block = try #require(HTTPHeaderBlock(ByteBuffer(string: raw)))
        var echoed = ByteBuffer()
        block.write(to: &echoed)
        #expect(String(buffer: echoed) == raw)
        #expect(block.byteCount == raw.utf8.count)
        #expect(block.value(of: "x-other") == "a:b")
        block.remove(HTTPHeaderBlock.bodyDescribing)
        block.add("Content-Length", "4")
        var edited = ByteBuffer()
        block.write(to: &edited)
        #expect(String(buffer: edited) == "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nX-Other: a:b\r\nContent-Length: 4\r\n\r\n")
        #expect(HTTPHeaderBlock(ByteBuffer(string: "HTTP/1.1 200 OK\r\n")) == nil)
        #expect(HTTPHeaderBlock(ByteBuffer(string: "\r\n\r\n")) == nil)
        #expect(HTTPHeaderBlock(ByteBuffer(string: "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n")) == nil)
        #expect(HTTPHeaderBlock(ByteBuffer(string: "HTTP/1.1 200 OK\nX-Smuggled: y\r\n\r\n")) == nil)
    }

    @Test("answers carry ISTag and a correct Encapsulated; the body is chunked")
    func answerEncoding() {
        let answer = ICAPAnswer(status: .ok, responseHeader: HTTPHeaderBlock(startLine: "HTTP/1.1 403 Forbidden", fields: [("Content-Length", "5")]),
                                body: ByteBuffer(string: "hello"))
        let text = String(buffer: answer.encode(istag: "\"t-1\"", allocator: ByteBufferAllocator()))
        #expect(text == "ICAP/1.0 200 OK\r\nISTag: \"t-1\"\r\nServer: kordon/\(KordonVersion.current)\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\n"
                + "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        let noContent = String(buffer: ICAPAnswer(status: .noContent).encode(istag: "\"t\"", allocator: ByteBufferAllocator()))
        #expect(noContent.hasSuffix("Encapsulated: null-body=0\r\n\r\n"))
        let error = String(buffer: ICAPAnswer.error(.badRequest, "bad\r\nInjected: yes", close: true).encode(istag: "\"t\"", allocator: ByteBufferAllocator()))
        #expect(error.contains("X-Kordon-Reason: bad??Injected: yes\r\n"))
        #expect(error.contains("Connection: close\r\n"))
    }

    @Test("the bearer token is compared whole; a missing or empty token file is an error")
    func authorization() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("icap-auth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try " abc123 \n".write(to: file, atomically: true, encoding: .utf8)
        let authorization = try BearerTokenFile(path: file.path, logger: Logger(label: "test"))
        #expect(authorization.accepts("Bearer abc123"))
        #expect(authorization.accepts("bearer abc123"))
        for bad in [nil, "", "Bearer ", "Bearer abc12", "Bearer abc1234", "Bearer abc124", "Basic abc123", "abc123"] as [String?] {
            #expect(!authorization.accepts(bad), "\(bad ?? "nil")")
        }
        try "\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: KordonError.self) { try BearerTokenFile(path: file.path, logger: Logger(label: "test")) }
        #expect(throws: KordonError.self) { try BearerTokenFile(path: file.path + ".missing", logger: Logger(label: "test")) }
        try "two words\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: KordonError.self) { try BearerTokenFile(path: file.path, logger: Logger(label: "test")) }
    }

    @Test("the block page escapes names and holds no detail or masked value")
    func blockPage() {
        let finding = Finding(stage: .restricted, rule: "kz.<iin>", part: .message, action: .quarantine,
                              detail: "IIN 880101300123 in element", category: "personal-data", masked: "8801••••0123")
        let report = Report(message: .init(source: "s", sha256: "", size: 1, format: "xml"), verdict: .quarantined,
                            findings: [finding], output: nil, engine: .init(kordon: "", clamav: "", signatures: 0, rules: ""))
        let page = ICAPBlockPage.html(report, quarantineID: "q-1")
        #expect(page.contains("kz.&lt;iin&gt;"))
        #expect(page.contains("q-1"))
        #expect(!page.contains("880101300123") && !page.contains("8801") && !page.contains("element"))
    }
}
