import Foundation
import KordonTestSupport
import Testing

/// Form detection through ICAP: a browser's `multipart/form-data` upload (REQMOD, no header
/// block of its own), a UTF-32 document and a bare-CR mail (RESPMOD) are decoded and their
/// EICAR found; the clean siblings are answered 204.
@Suite("ICAP form detection", .timeLimit(.minutes(10)))
struct ICAPFormDetectionTests {
    /// The sample declaration with attachments, its first payload replaced by `payload`.
    static func declaration(embedding payload: Data?) throws -> Data {
        let sample = try String(contentsOf: repositoryRoot.appendingPathComponent("fixtures/clean/declaration-attachments.xml"), encoding: .utf8)
        guard let payload else { return Data(sample.utf8) }
        let open = try #require(sample.range(of: "<Content mediaType=\"application/pdf\">"))
        let close = try #require(sample.range(of: "</Content>", range: open.upperBound..<sample.endIndex))
        return Data((sample[..<open.upperBound] + payload.base64EncodedString() + sample[close.lowerBound...]).utf8)
    }

    static func formData(file: Data, named filename: String) -> [UInt8] {
        let boundary = "----WebKitFormBoundaryq2x9ZQ"
        return Array(("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n").utf8) + Array(file) + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    static func utf32(_ data: Data) -> [UInt8] {
        [0xFF, 0xFE, 0, 0] + String(decoding: data, as: UTF8.self).unicodeScalars.flatMap { scalar -> [UInt8] in
            let v = scalar.value
            return [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v >> 16), UInt8(v >> 24)]
        }
    }

    static func bareCRMail(attaching attachment: Data) -> [UInt8] {
        let text = "From: kz-gateway@customs.example.kz\rTo: ru-gateway@customs.example.ru\rSubject: Declaration\rMIME-Version: 1.0\r"
            + "Content-Type: multipart/mixed; boundary=\"b1\"\r\r--b1\rContent-Type: text/plain\r\rsee attached\r--b1\r"
            + "Content-Type: application/octet-stream\rContent-Transfer-Encoding: base64\r\r\(attachment.base64EncodedString())\r--b1--\r"
        return Array(text.utf8)
    }

    @Test("an upload, a UTF-32 document and a bare-CR mail: EICAR found in each, clean siblings answered 204")
    func bodiesAreDecoded() async throws {
        let hostile = try Self.declaration(embedding: eicar)
        let clean = try Self.declaration(embedding: nil)
        let cases: [(name: String, reqmod: Bool, hostile: [UInt8], clean: [UInt8])] = [
            ("form-data upload of decl.xml", true, Self.formData(file: hostile, named: "decl.xml"), Self.formData(file: clean, named: "decl.xml")),
            ("UTF-32 declaration", false, Self.utf32(hostile), Self.utf32(clean)),
            ("bare-CR mail", false, Self.bareCRMail(attaching: eicar), Self.bareCRMail(attaching: Data("harmless".utf8))),
        ]
        try await withSharedICAPServer { server in
            let port = server.port
            for item in cases {
                let (blocked, passed) = try await icapBlocking {
                    let connection = try ICAPTestConnection(port: port)
                    func send(_ body: [UInt8]) throws -> ICAPTestResponse {
                        let head = item.reqmod
                            ? ICAPTestRequest.reqmod(port: port, bodyLength: body.count, headers: ["Allow: 204"])
                            : ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"])
                        try connection.send(head + ICAPTestRequest.chunked(body))
                        return try connection.readResponse()
                    }
                    return (try send(item.hostile), try send(item.clean))
                }
                #expect(blocked.status == 200, "\(item.name)")
                #expect(blocked.httpStatus == 403, "\(item.name)")
                #expect(blocked.header("X-Infection-Found")?.contains("EICAR") == true, "\(item.name): \(blocked.headers)")
                #expect(passed.status == 204, "\(item.name): \(passed.headers)")
            }
        }
    }
}
