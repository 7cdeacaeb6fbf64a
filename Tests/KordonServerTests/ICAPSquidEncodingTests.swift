import Foundation
import KordonTestSupport
import KordonServer
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Squid in front of an origin that serves its files content-coded, as web servers do:
/// Kordon sees the coded body through Squid's RESPMOD and filters what a browser decodes.
@Suite("ICAP through Squid: Content-Encoding", .serialized, .timeLimit(.minutes(10)))
struct ICAPSquidEncodingTests {
    static let squid = icapExecutable("squid")

    @Test("a download served gzip, br or zstd with EICAR inside is blocked; a clean one arrives as the origin sent it",
          .enabled(if: squid != nil, "squid is missing (Debian package squid): run scripts/install-deps"))
    func squidContentEncoding() async throws {
        try await withSharedICAPServer { server in
            let files = try ICAPFiles()
            defer { files.remove() }
            let clean = ICAPContentEncodingTests.cleanPage, infected = ICAPContentEncodingTests.infectedPage
            var served: [String: Data] = [:]
            for coding in ["gzip", "br", "zstd"] {
                served["clean.\(coding)"] = try await contentCoded(clean, coding)
                served["eicar.\(coding)"] = try await contentCoded(infected, coding)
            }
            for (name, bytes) in served { try bytes.write(to: URL(fileURLWithPath: files.path(name))) }
            let origin = try await CodingOrigin.start(directory: files.root)
            defer { origin.stop() }
            let proxy = try await ICAPSquid.start(squid: Self.squid!, directory: files.root, icapPort: server.port)
            defer { proxy.stop() }
            for coding in ["gzip", "br", "zstd"] {
                let passed = try await icapProxyGet(proxyPort: proxy.port, url: "http://127.0.0.1:\(origin.port)/clean.\(coding)")
                #expect(passed.status == 200, "\(coding)")
                #expect(Data(passed.body) == served["clean.\(coding)"], "\(coding): the coded bytes pass unchanged")
                let blocked = try await icapProxyGet(proxyPort: proxy.port, url: "http://127.0.0.1:\(origin.port)/eicar.\(coding)")
                #expect(blocked.status == 403, "\(coding)")
                #expect(String(decoding: blocked.body, as: UTF8.self).contains("Blocked by Kordon"), "\(coding)")
            }
        }
    }
}

/// A web server that sends `NAME.gzip`, `NAME.br`, `NAME.zstd` with that `Content-Encoding`.
final class CodingOrigin: Sendable {
    let process: Process
    let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(directory: String) async throws -> CodingOrigin {
        let script = """
        import http.server, os, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = os.path.join(sys.argv[1], os.path.basename(self.path))
                if not os.path.isfile(path):
                    self.send_error(404); return
                body = open(path, 'rb').read()
                self.send_response(200)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Encoding', path.rsplit('.', 1)[1])
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        let (process, port) = try await startPythonWebServer(script, directory: directory, name: "the coding origin")
        return CodingOrigin(process: process, port: port)
    }

    func stop() { icapKill(process) }
}
