import Foundation
import KordonTestSupport
import KordonCore
import KordonServer
import Testing

/// The name a transport gives a message comes with the message: an ICAP request's URL
/// is the traffic's own. It is the report's `source`, kept in the quarantine index and
/// the audit log, so an identifier in it is masked there like one in a part path.
@Suite("ICAP: restricted values in the request URL", .timeLimit(.minutes(10)))
struct ICAPMaskedNamesTests {
    static let iin = "061211600012"
    static let maskedIIN = "0612••••0012"

    @Test("REQMOD of an upload to a URL naming an IIN: the stored source and the audit log show it masked")
    func requestURL() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let text = try String(contentsOf: repositoryRoot.appendingPathComponent("fixtures/clean/declaration-kz-ru.xml"), encoding: .utf8)
            // A namespace URI naming the person: held, so the message gets a record.
            let body = Array(text.replacingOccurrences(of: "<GoodsDeclaration ", with: "<GoodsDeclaration xmlns:p=\"urn:person:\(Self.iin)\" ").utf8)
            let request = "POST http://origin.test/persons/\(Self.iin)/declaration HTTP/1.1\r\nHost: origin.test\r\n"
                + "Content-Type: application/xml\r\nContent-Length: \(body.count)\r\n\r\n"
            let head = ICAPTestRequest.head("REQMOD", port: port, service: "kordon",
                                            encapsulated: "req-hdr=0, req-body=\(request.utf8.count)", headers: ["Allow: 204"])
            let response = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port)
                try connection.send(head + Array(request.utf8) + ICAPTestRequest.chunked(body))
                return try connection.readResponse()
            }
            #expect(response.status == 200 && response.httpStatus == 403)
            let id = try #require(response.header("X-Kordon-Quarantine-Id"))
            let record = try #require(try server.filter.store.record(id: id))
            #expect(record.source.contains("/persons/\(Self.maskedIIN)/declaration"), "\(record.source)")
            #expect(!record.report.jsonLine().contains(Self.iin))
            let audit = try String(contentsOf: server.state.appendingPathComponent("audit.log"), encoding: .utf8)
            #expect(audit.contains(id))
            #expect(!audit.contains(Self.iin))
        }
    }
}
