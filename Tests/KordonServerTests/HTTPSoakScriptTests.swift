import Foundation
import KordonTestSupport
import Testing

/// `Benchmarks/http-soak.py`, run briefly against an in-process server.
@Suite("HTTP soak script")
struct HTTPSoakScriptTests {
    @Test("10 clients for 3 s: every answer checked, no errors, latency percentiles printed")
    func shortSoak() async throws {
        let server = try await HTTPSharedServer.get()
        let script = repositoryRoot.appendingPathComponent("Benchmarks/http-soak.py").path
        let run = try await httpRun("/usr/bin/env", ["python3", script, "--url", server.url("").absoluteString,
                                                     "--clients", "10", "--duration", "3", "--reload-every", "0"])
        let output = String(decoding: run.stdout, as: UTF8.self)
        #expect(run.status == 0, "\(output)\(run.stderr)")
        #expect(output.contains("errors: 0"))
        for kind in ["clean", "infected", "restricted"] {
            #expect(output.contains("latency \(kind)"), "\(output)")
        }
        #expect(output.contains("clean         200"))
        #expect(output.contains("infected      403"))
        #expect(output.contains("restricted    200"))
    }
}
