import Foundation
import KordonTestSupport
import KordonCore
import Kordon
import KordonServer
import Testing

/// Probes, metrics, bearer-token auth and TLS of the HTTP API.
@Suite("HTTP API: probes, metrics, auth, TLS", .timeLimit(.minutes(10)))
struct HTTPOperationsTests {
    @Test("healthz and readyz answer 200 while the engines are loaded")
    func probes() async throws {
        let server = try await HTTPSharedServer.get()
        let health = try await httpSend(server.url("/healthz"), method: "GET")
        let ready = try await httpSend(server.url("/readyz"), method: "GET")
        let unknown = try await httpSend(server.url("/v2/filter"), method: "GET")
        #expect(health.status == 200)
        #expect(try health.object()["status"] as? String == "alive")
        #expect(ready.status == 200)
        #expect(try ready.object()["status"] as? String == "ready")
        #expect(unknown.status == 404)
    }

    @Test("a failed reload keeps scanning on the old engines and makes readyz 503 with the reason, until a reload works")
    func readyzAfterFailedReload() async throws {
        let server = try await HTTPTestServer.start { configuration, directory in
            let extra = directory.appendingPathComponent("signatures")
            try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("signatures/kordon-test.hdb"),
                                             to: extra.appendingPathComponent("extra.hdb"))
            configuration.signatures.directories = [extra.path]
        }
        let extra = server.directory.appendingPathComponent("signatures")
        let saved = try Data(contentsOf: extra.appendingPathComponent("extra.hdb"))
        try FileManager.default.removeItem(at: extra)
        await #expect(throws: (any Error).self) { try await server.filter.reload() }
        let failed = try await httpSend(server.url("/readyz"), method: "GET")
        let stillScanning = try await httpSend(server.url("/v1/filter"), body: try httpInfectedDeclaration())
        try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
        try saved.write(to: extra.appendingPathComponent("extra.hdb"))
        try await server.filter.reload()
        let recovered = try await httpSend(server.url("/readyz"), method: "GET")
        try await server.stop()
        #expect(failed.status == 503)
        #expect(try failed.object()["status"] as? String == "not-ready")
        #expect((try failed.object()["reason"] as? String)?.contains("reload failed") == true)
        #expect(stillScanning.status == 403)
        #expect(recovered.status == 200)
    }

    @Test("metrics: messages by verdict, findings by stage, latency histogram, queue depth, signatures, HTTP codes")
    func metrics() async throws {
        let server = try await HTTPTestServer.start()
        _ = try await httpSend(server.url("/v1/filter"), body: try httpCleanDeclaration())
        _ = try await httpSend(server.url("/v1/filter"), body: try httpCleanDeclaration())
        _ = try await httpSend(server.url("/v1/filter"), body: try httpInfectedDeclaration())
        _ = try await httpSend(server.url("/v1/filter"), body: try httpRestrictedFixture("declaration-person-kz-ru.xml"))
        let answer = try await httpSend(server.url("/metrics"), method: "GET")
        try await server.stop()
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let lines = answer.text.split(separator: "\n").map(String.init)
        func value(_ prefix: String) -> Double? {
            lines.first { $0.hasPrefix(prefix) }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        }
        #expect(value(#"kordon_messages_total{verdict="clean",transport="http"}"#) == 2)
        #expect(value(#"kordon_messages_total{verdict="quarantined",transport="http"}"#) == 1)
        #expect(value(#"kordon_messages_total{verdict="sanitized",transport="http"}"#) == 1)
        #expect((value(#"kordon_findings_total{stage="virus"}"#) ?? 0) >= 1)
        #expect((value(#"kordon_findings_total{stage="restricted"}"#) ?? 0) >= 1)
        #expect(value("kordon_scan_duration_seconds_count") == 4)
        #expect(lines.contains { $0.hasPrefix(#"kordon_scan_duration_seconds_bucket{le="#) })
        #expect(value("kordon_queue_depth") == 0)
        #expect((value("kordon_engine_signatures") ?? 0) > 0)
        #expect(value("kordon_engine_load_seconds") != nil)
        #expect(value(#"kordon_http_responses_total{code="200"}"#) == 3)
        #expect(value(#"kordon_http_responses_total{code="403"}"#) == 1)
    }

    @Test("bearer auth: 401 with WWW-Authenticate without or with a wrong token; healthz stays open")
    func bearerAuth() async throws {
        let server = try await HTTPTestServer.start { configuration, directory in
            configuration.service.http.bearerTokenFile = try httpWrite("s3cret-token-42\n", to: "http.token", in: directory)
        }
        let message = try httpCleanDeclaration()
        let missing = try await httpSend(server.url("/v1/filter"), body: message)
        let wrong = try await httpSend(server.url("/v1/filter"), body: message, headers: ["Authorization": "Bearer s3cret-token-43"])
        let prefix = try await httpSend(server.url("/v1/filter"), body: message, headers: ["Authorization": "Bearer s3cret-token-4"])
        let right = try await httpSend(server.url("/v1/filter"), body: message, headers: ["Authorization": "bearer s3cret-token-42"])
        let metrics = try await httpSend(server.url("/metrics"), method: "GET")
        let metricsAuthorized = try await httpSend(server.url("/metrics"), method: "GET", headers: ["Authorization": "Bearer s3cret-token-42"])
        let health = try await httpSend(server.url("/healthz"), method: "GET")
        try await server.stop()
        for answer in [missing, wrong, prefix, metrics] {
            #expect(answer.status == 401)
            #expect(answer.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(answer.header("Kordon-Verdict") == nil, "nothing was scanned")
        }
        #expect(missing.header("WWW-Authenticate") == #"Bearer realm="kordon""#)
        #expect(wrong.header("WWW-Authenticate")?.contains(#"error="invalid_token""#) == true)
        #expect(right.status == 200)
        #expect(right.body == message)
        #expect(metricsAuthorized.status == 200)
        #expect(health.status == 200)
    }

    @Test("without a token file no auth is asked for")
    func noAuth() async throws {
        let server = try await HTTPSharedServer.get()
        let answer = try await httpSend(server.url("/metrics"), method: "GET")
        #expect(answer.status == 200)
    }

    @Test("an empty or missing token file stops the service at start")
    func badTokenFile() async throws {
        let empty = try await httpServiceError { configuration, directory in
            configuration.http.bearerTokenFile = try httpWrite(" \n", to: "empty.token", in: directory)
        }
        let missing = try await httpServiceError { configuration, directory in
            configuration.http.bearerTokenFile = directory.appendingPathComponent("missing.token").path
        }
        #expect(empty?.code == "serve.token")
        #expect(missing?.code == "serve.token")
    }

    @Test("a token rotated in its file takes over within a second, without a restart; an unusable replacement keeps the old one")
    func tokenRotation() async throws {
        var tokenFile = ""
        let server = try await HTTPTestServer.start { configuration, directory in
            tokenFile = try httpWrite("first-token\n", to: "http.token", in: directory)
            configuration.service.http.bearerTokenFile = tokenFile
        }
        let status = { (token: String) async throws -> Int in
            try await httpSend(server.url("/metrics"), method: "GET", headers: ["Authorization": "Bearer \(token)"]).status
        }
        #expect(try await status("first-token") == 200)
        // Replaced the way operators do it: a new file renamed over the old one.
        try "second-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try await Task.sleep(for: BearerTokenFile.recheck + .milliseconds(100))
        #expect(try await status("second-token") == 200)
        #expect(try await status("first-token") == 401)
        try "   \n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try await Task.sleep(for: BearerTokenFile.recheck + .milliseconds(100))
        #expect(try await status("second-token") == 200, "an empty replacement must not lock everyone out or let everyone in")
        #expect(try await status("") == 401)
        try await server.stop()
    }

    @Test("TLS with a certificate made by openssl: curl verifies it and gets the verdict; plain HTTP gets nothing")
    func tls() async throws {
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-http-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: keys) }
        let certificate = keys.appendingPathComponent("cert.pem").path, key = keys.appendingPathComponent("key.pem").path
        let made = try await httpRun("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                                                          "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        try #require(made.status == 0, "openssl failed: \(made.stderr)")
        let server = try await HTTPTestServer.start { configuration, directory in
            configuration.service.tls = .init(certificate: certificate, key: key)
            configuration.service.http.bearerTokenFile = try httpWrite("tls-token", to: "http.token", in: directory)
        }
        let message = keys.appendingPathComponent("message.xml")
        try httpCleanDeclaration().write(to: message)
        let headers = keys.appendingPathComponent("headers"), body = keys.appendingPathComponent("body")
        let curl = try await httpRun("/usr/bin/curl", ["-sS", "--cacert", certificate, "-H", "Authorization: Bearer tls-token",
                                                       "--data-binary", "@\(message.path)", "-D", headers.path, "-o", body.path,
                                                       "-w", "%{http_code}", server.url("/v1/filter").absoluteString])
        let large = keys.appendingPathComponent("large.bin")
        try Data(repeating: 0x42, count: 2 << 20).write(to: large)
        let continued = try await httpRun("/usr/bin/curl", ["-sS", "-v", "--expect100-timeout", "30", "--cacert", certificate,
                                                            "-H", "Authorization: Bearer tls-token", "--data-binary", "@\(large.path)",
                                                            "-o", "/dev/null", "-w", "%{http_code}", server.url("/v1/filter").absoluteString])
        let untrusted = try await httpRun("/usr/bin/curl", ["-sS", "-o", "/dev/null", server.url("/healthz").absoluteString])
        let plain = try await httpRun("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                                        "http://127.0.0.1:\(server.port)/healthz"])
        try await server.stop()
        #expect(server.scheme == "https")
        #expect(curl.status == 0, "curl: \(curl.stderr)")
        #expect(String(decoding: curl.stdout, as: UTF8.self) == "200")
        #expect(try Data(contentsOf: body) == (try httpCleanDeclaration()))
        #expect(String(decoding: try Data(contentsOf: headers), as: UTF8.self).lowercased().contains("kordon-verdict: clean"))
        #expect(String(decoding: continued.stdout, as: UTF8.self) == "200")
        #expect(continued.stderr.contains("< HTTP/1.1 100 Continue"), "100 Continue is written inside TLS")
        #expect(untrusted.status != 0, "curl refuses a certificate it was not told to trust")
        #expect(String(decoding: plain.stdout, as: UTF8.self) != "200", "plain HTTP is not served on the TLS port")
    }

    @Test("a certificate or key that is not PEM stops the service at start with http.tls")
    func badTLS() async throws {
        let junk = try await httpServiceError { configuration, directory in
            let junk = try httpWrite("not a pem", to: "junk.pem", in: directory)
            configuration.tls = .init(certificate: junk, key: junk)
        }
        let missing = try await httpServiceError { configuration, directory in
            configuration.tls = .init(certificate: directory.appendingPathComponent("none.pem").path, key: "/nonexistent.pem")
        }
        #expect(junk?.code == "http.tls")
        #expect(missing?.code == "http.tls")
    }

    @Test("no listen address, or a bad one, stops the service at start with http.listen")
    func badListen() async throws {
        let none = try await httpServiceError { configuration, _ in configuration.http.listen = nil }
        let bad = try await httpServiceError { configuration, _ in configuration.http.listen = "127.0.0.1" }
        #expect(none?.code == "http.listen")
        #expect(bad?.code == "http.listen")
    }

    @Test("a port already in use makes run() throw instead of serving nothing")
    func portInUse() async throws {
        let shared = try await HTTPSharedServer.get()
        var configuration = shared.filter.configuration.service
        configuration.http.listen = "127.0.0.1:\(shared.port)"
        let http = try HTTPService(service: shared.filter, configuration: configuration, logger: shared.filter.logger)
        await #expect(throws: (any Error).self) { try await http.run() }
    }
}

/// The error `HTTPService.init` throws for the shared server's settings changed by `adjust`.
private func httpServiceError(_ adjust: (inout ServiceConfiguration, URL) throws -> Void) async throws -> KordonError? {
    let shared = try await HTTPSharedServer.get()
    var configuration = shared.filter.configuration.service
    try adjust(&configuration, shared.directory)
    do {
        _ = try HTTPService(service: shared.filter, configuration: configuration, logger: shared.filter.logger)
        return nil
    } catch let error as KordonError {
        return error
    }
}
