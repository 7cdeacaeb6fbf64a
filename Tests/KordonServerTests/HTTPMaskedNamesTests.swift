import Foundation
import KordonTestSupport
import KordonCore
import KordonServer
import Testing

/// Identifiers in names through `POST /v1/filter` and the quarantine it fills: the
/// JSON answer, the stored record and `kordon quarantine list` / `show` never show the
/// identifier, part paths and document type included.
@Suite("HTTP API: restricted values in names", .timeLimit(.minutes(10)))
struct HTTPMaskedNamesTests {
    static let iin = "061211600012"
    static let maskedIIN = "0612••••0012"

    /// The clean KZ→RU declaration with an IIN in a namespace URI on its root (still
    /// schema-valid) and an element named after it (which the schema refuses).
    static func declaration() throws -> Data {
        var text = try String(contentsOf: repositoryRoot.appendingPathComponent("fixtures/clean/declaration-kz-ru.xml"), encoding: .utf8)
        let root = try #require(text.range(of: "<GoodsDeclaration "))
        text.replaceSubrange(root, with: "<GoodsDeclaration xmlns:p=\"urn:person:\(iin)\" ")
        let first = try #require(text.range(of: "<csdo:EDocCode>"))
        text.insert(contentsOf: "<IIN_\(iin)>x</IIN_\(iin)>\n  ", at: first.lowerBound)
        return Data(text.utf8)
    }

    /// `kordon quarantine <arguments>` on the store of `server`.
    static func quarantine(_ arguments: [String], of server: HTTPTestServer) throws -> (status: Int32, stdout: String, stderr: String) {
        let config = server.directory.appendingPathComponent("masked-names-\(UUID().uuidString).yaml")
        try "state: \(server.directory.path)\n".write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let out = Pipe(), err = Pipe()
        let process = Process()
        process.executableURL = try kordonBinary()
        process.arguments = ["quarantine"] + arguments + ["--config", config.path]
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Small outputs (a few records): reading to the end before waiting cannot block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("Accept: application/json: 403, the kz.iin finding and the schema finding both masked, in the answer and the stored record")
    func jsonAnswerAndRecord() async throws {
        let server = try await HTTPSharedServer.get()
        let answer = try await httpSend(server.url("/v1/filter?source=person-\(Self.iin).xml"), body: try Self.declaration(),
                                        headers: ["Accept": "application/json", "Content-Type": "application/xml"])
        #expect(answer.status == 403)
        #expect(!answer.text.contains(Self.iin), "\(answer.text)")
        #expect(!answer.headers.values.contains { $0.contains(Self.iin) })
        let report = try answer.report()
        #expect(report.verdict == .quarantined)
        #expect(report.message.source == "person-\(Self.maskedIIN).xml", "the client's label is the sender's name for the message")
        #expect(report.findings.contains { $0.rule == "kz.iin" && $0.detail.contains("namespace URI") && $0.masked == Self.maskedIIN })
        #expect(report.findings.contains { $0.rule == "schema.invalid" && $0.part == "xml:/GoodsDeclaration/IIN_\(Self.maskedIIN)" },
                "\(report.findings)")
        let id = try #require(answer.header("Kordon-Quarantine-Id"))
        let record = try #require(try server.filter.store.record(id: id))
        #expect(record.reasons.contains("kz.iin"))
        #expect(!record.report.jsonLine().contains(Self.iin))
    }

    @Test("kordon quarantine list and show on the store the server filled: reasons and masked paths, never the IIN")
    func quarantineCommands() async throws {
        let server = try await HTTPSharedServer.get()
        let answer = try await httpSend(server.url("/v1/filter?source=names-cli.xml"), body: try Self.declaration())
        #expect(answer.status == 403)
        let id = try #require(answer.header("Kordon-Quarantine-Id"))

        let list = try Self.quarantine(["list"], of: server)
        #expect(list.status == 0, "\(list.stderr)")
        let line = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix(id) }, "\(list.stdout)")
        #expect(line.contains("kz.iin"))
        let ndjson = try Self.quarantine(["list", "--format", "ndjson"], of: server)
        #expect(ndjson.stdout.contains(id) && ndjson.stdout.contains("IIN_\(Self.maskedIIN)"), "\(ndjson.stdout)")
        let show = try Self.quarantine(["show", id], of: server)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("IIN_\(Self.maskedIIN)"))
        for output in [list.stdout, list.stderr, ndjson.stdout, ndjson.stderr, show.stdout, show.stderr] {
            #expect(!output.contains(Self.iin), "\(output)")
        }
    }
}
