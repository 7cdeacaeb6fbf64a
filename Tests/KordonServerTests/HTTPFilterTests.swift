import Foundation
import KordonTestSupport
import KordonCore
import KordonServer
import Testing

/// `POST /v1/filter`: what each kind of message gets back.
@Suite("HTTP API: POST /v1/filter", .timeLimit(.minutes(10)))
struct HTTPFilterTests {
    @Test("a clean declaration comes back byte for byte with Kordon-Verdict: clean")
    func cleanPassesUnchanged() async throws {
        let server = try await HTTPSharedServer.get()
        let message = try httpCleanDeclaration()
        let answer = try await httpSend(server.url("/v1/filter"), body: message, headers: ["Content-Type": "application/xml"])
        #expect(answer.status == 200)
        #expect(answer.body == message)
        #expect(answer.header("Kordon-Verdict") == "clean")
        #expect(answer.header("Content-Type") == "application/xml")
        #expect(answer.header("Kordon-Message-Sha256") == answer.header("Kordon-Output-Sha256"))
        #expect(answer.header("Kordon-Message-Sha256")?.count == 64)
        #expect(answer.header("Kordon-Quarantine-Id") == nil)
    }

    @Test("EICAR base64 inside an element: 403 with the JSON report naming the virus; nothing of the message is sent")
    func infectedIsRefused() async throws {
        let server = try await HTTPSharedServer.get()
        let message = try httpInfectedDeclaration()
        let answer = try await httpSend(server.url("/v1/filter?source=decl-17.xml"), body: message)
        let stored = try answer.header("Kordon-Quarantine-Id").flatMap { try server.filter.store.record(id: $0) }
        #expect(answer.status == 403)
        #expect(answer.header("Content-Type") == "application/json")
        #expect(answer.header("Kordon-Verdict") == "quarantined")
        let report = try answer.report()
        #expect(report.verdict == .quarantined)
        #expect(report.output == nil)
        #expect(report.message.source == "decl-17.xml")
        #expect(report.findings.contains { $0.stage == .virus && $0.rule.contains("EICAR") && $0.part.hasPrefix("xml:/") })
        #expect(stored?.verdict == .quarantined, "the original is held in the quarantine store")
        #expect(!answer.text.contains(eicar.base64EncodedString()))
    }

    @Test("a declaration naming a person (KZ→RU): 200 with the sanitized body; the IIN is gone")
    func restrictedIsSanitized() async throws {
        let server = try await HTTPSharedServer.get()
        let message = try httpRestrictedFixture("declaration-person-kz-ru.xml")
        #expect(String(decoding: message, as: UTF8.self).contains("791028302728"))
        let answer = try await httpSend(server.url("/v1/filter"), body: message)
        let id = try #require(answer.header("Kordon-Quarantine-Id"))
        let original = try server.filter.store.original(id: id)
        #expect(answer.status == 200)
        #expect(answer.header("Kordon-Verdict") == "sanitized")
        #expect(!answer.text.isEmpty)
        #expect(!answer.text.contains("791028302728"))
        #expect(answer.text.contains("<csdo:SubjectName>"), "the document itself is passed, not a report")
        #expect(answer.header("Kordon-Output-Sha256") != answer.header("Kordon-Message-Sha256"))
        #expect(original == message, "the original is kept in quarantine")
    }

    @Test("Accept: application/json answers a passed message with its report instead")
    func acceptJSON() async throws {
        let server = try await HTTPSharedServer.get()
        let message = try httpCleanDeclaration()
        let answer = try await httpSend(server.url("/v1/filter"), body: message,
                                        headers: ["Accept": "text/html;q=0.9, application/json"])
        let refused = try await httpSend(server.url("/v1/filter"), body: message, headers: ["Accept": "application/json;q=0"])
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type") == "application/json")
        let report = try answer.report()
        #expect(report.verdict == .clean)
        #expect(report.message.size == message.count)
        #expect(report.output?.size == message.count)
        #expect(report.message.source == "http")
        #expect(refused.body == message, "q=0 refuses JSON")
    }

    @Test("the route comes from ?from=&to= or from Kordon-From/Kordon-To; the query wins")
    func routeByQueryAndHeader() async throws {
        let server = try await HTTPSharedServer.get()
        let message = try httpCleanDeclaration()
        let json = ["Accept": "application/json"]
        let byQuery = try await httpSend(server.url("/v1/filter?from=kz&to=RU"), body: message, headers: json)
        let byHeader = try await httpSend(server.url("/v1/filter"), body: message,
                                          headers: json.merging(["Kordon-From": "BY", "Kordon-To": "KG", "Kordon-Source": "gw-7"]) { $1 })
        let both = try await httpSend(server.url("/v1/filter?from=AM"), body: message,
                                      headers: json.merging(["Kordon-From": "BY", "Kordon-To": "RU"]) { $1 })
        let bad = try await httpSend(server.url("/v1/filter?from=KAZ"), body: message, headers: json)
        #expect(try byQuery.report().message.route == Report.Route(from: "KZ", to: "RU"))
        #expect(try byHeader.report().message.route == Report.Route(from: "BY", to: "KG"))
        #expect(try byHeader.report().message.source == "gw-7")
        #expect(try both.report().message.route == Report.Route(from: "AM", to: "RU"))
        #expect(bad.status == 400)
        let error = try #require(try bad.object()["error"] as? [String: Any])
        #expect(error["code"] as? String == "http.route")
    }

    @Test("over limits.maxMessageSize: 413 with a report-like refusal, never a scan of part of it, and audited like every decision")
    func oversizeIsRefused() async throws {
        let server = try await HTTPTestServer.start { configuration, _ in configuration.limits.maxMessageSize = 4096 }
        let large = try httpLargeDeclaration(bytes: 8192)
        let declared = try await httpSend(server.url("/v1/filter?from=KZ&to=RU"), body: large)
        // No Content-Length: a chunked body is cut off as it crosses the limit.
        let chunked = try await httpSend(server.url("/v1/filter"), bodyStream: InputStream(data: large))
        let fits = try await httpSend(server.url("/v1/filter"), body: Data(large.prefix(4096)), headers: ["Accept": "application/json"])
        let exposition = server.filter.metrics.exposition()
        let refusals = try auditEntries(of: server.filter).filter { ($0["rules"] as? [String]) == ["kordon.message-size"] }
        try await server.stop()
        #expect(refusals.count == 2, "each refusal is a decision in the audit log")
        for refusal in refusals {
            #expect(refusal["event"] as? String == "decision" && refusal["verdict"] as? String == "quarantined")
            #expect((refusal["detail"] as? String)?.contains("413") == true)
            #expect(refusal["quarantineID"] == nil, "nothing was stored: the sender keeps the message")
        }
        for answer in [declared, chunked] {
            #expect(answer.status == 413)
            let object = try answer.object()
            #expect((object["error"] as? [String: Any])?["code"] as? String == "http.too-large")
            let findings = try #require(object["findings"] as? [[String: Any]])
            #expect(findings.first?["stage"] as? String == "unchecked")
            #expect(findings.first?["rule"] as? String == "kordon.message-size")
            #expect(answer.header("Kordon-Verdict") == nil)
        }
        #expect(((try declared.object()["message"] as? [String: Any])?["size"] as? Int) == large.count)
        #expect(fits.status == 403, "a message at the limit is scanned (this cut one is no longer valid XML)")
        #expect(try fits.report().message.size == 4096)
        #expect(!exposition.contains("kordon_messages_total{verdict=\"clean\""), "nothing oversized was scanned")
    }

    @Test("Expect: 100-continue (curl, bodies over 1 MiB) gets 100 Continue at once; an oversized one gets 413 and sends nothing")
    func expectContinue() async throws {
        let shared = try await HTTPSharedServer.get()
        let small = try await HTTPTestServer.start { configuration, _ in configuration.limits.maxMessageSize = 4096 }
        let file = small.directory.appendingPathComponent("big.bin")
        try Data(repeating: 0x41, count: 2 << 20).write(to: file)
        let big = try await httpRun("/usr/bin/curl", ["-sS", "-v", "--expect100-timeout", "30", "--data-binary", "@\(file.path)",
                                                      "-o", "/dev/null", "-w", "%{http_code}", shared.url("/v1/filter").absoluteString])
        let refused = try await httpRun("/usr/bin/curl", ["-sS", "-v", "--expect100-timeout", "30", "-H", "Expect: 100-continue",
                                                          "--data-binary", "@\(file.path)", "-o", "/dev/null", "-w", "%{http_code}",
                                                          small.url("/v1/filter").absoluteString])
        try await small.stop()
        #expect(String(decoding: big.stdout, as: UTF8.self) == "200")
        #expect(big.stderr.contains("> Expect: 100-continue"))
        #expect(big.stderr.contains("< HTTP/1.1 100 Continue"))
        #expect(String(decoding: refused.stdout, as: UTF8.self) == "413")
        #expect(!refused.stderr.contains("100 Continue"), "a refused body is not asked for")
    }

    @Test("a source name with control characters is refused with 400")
    func badSource() async throws {
        let server = try await HTTPSharedServer.get()
        let answer = try await httpSend(server.url("/v1/filter?source=a%07b"), body: try httpCleanDeclaration())
        #expect(answer.status == 400)
        #expect((try answer.object()["error"] as? [String: Any])?["code"] as? String == "http.source")
    }
}
