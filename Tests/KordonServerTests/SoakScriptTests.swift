import Foundation
import KordonTestSupport
import Testing

/// `Benchmarks/serve-soak.py`, run briefly: the script issue 4's soak check uses.
@Suite("soak script", .timeLimit(.minutes(10)))
struct SoakScriptTests {
    @Test("10 HTTP and 10 ICAP clients for 3 s against kordon serve, SIGHUP every second: every answer checked, no errors")
    func shortSoak() async throws {
        let script = repositoryRoot.appendingPathComponent("Benchmarks/serve-soak.py").path
        let run = try await httpRun("/usr/bin/env", ["python3", script, "--kordon", try kordonBinary().path,
                                                     "--clients", "10", "--icap-clients", "10",
                                                     "--duration", "3", "--reload-every", "1"])
        let output = String(decoding: run.stdout, as: UTF8.self)
        #expect(run.status == 0, "\(output)\(run.stderr)")
        #expect(output.contains("errors: 0"))
        #expect(output.contains("10 HTTP + 10 ICAP") && !output.contains(" 0 reloads"), "\(output)")
        for (label, status) in [("http clean", 200), ("http infected", 403), ("http restricted", 200),
                                ("icap clean", 204), ("icap infected", 200), ("icap restricted", 200)] {
            #expect(output.contains("\(label.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(status).leftPadded(5)):"),
                    "\(output)")
            #expect(output.contains("latency \(label)"), "\(output)")
        }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
