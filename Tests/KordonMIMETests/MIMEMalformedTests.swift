import Foundation
import KordonCore
@testable import KordonMIME
import Testing

/// Hostile and broken messages: never a crash, never a silent pass.
@Suite(.timeLimit(.minutes(10))) struct MIMEMalformedTests {
    let parser = MIMEMessageParser(limits: Limits())

    /// A CRLF message from lines.
    private func message(_ lines: [String]) -> Data {
        Data(lines.joined(separator: "\r\n").utf8)
    }

    private let headers = ["From: a@example.kz", "To: b@example.ru", "MIME-Version: 1.0"]

    @Test func garbageIsNotMIMEAndDoesNotCrash() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let garbage = Data((0..<8192).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        })
        #expect(!MIMEMessageParser.looksLikeMIME(garbage))
        _ = parser.parse(garbage)
        _ = parser.parse(Data())
        #expect(parser.parse(Data()).rules == ["mime.unparsable"])
    }

    @Test func headersOnlyGiveOneEmptyLeaf() {
        let data = message(headers + ["Subject: nothing", "", ""])
        #expect(MIMEMessageParser.looksLikeMIME(data))
        let result = parser.parse(data)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1"])
        #expect(result.leaves.first?.part.data.isEmpty == true)
    }

    @Test func contentAfterAMissingClosingBoundaryIsStillDelivered() {
        let data = message(headers + [
            "Content-Type: multipart/mixed; boundary=\"XYZ\"", "",
            "--XYZ", "Content-Type: text/plain", "", "first",
            "--XYZ", "Content-Type: application/octet-stream", "", "TAIL-MARKER payload",
            "more after the marker", "",
        ])
        let result = parser.parse(data)
        #expect(result.paths == ["mime/1", "mime/2"])
        #expect(result.leaves.contains { String(decoding: $0.part.data, as: UTF8.self).contains("TAIL-MARKER") })
        #expect(!result.rules.contains("mime.unparsable"))
    }

    @Test func preambleAndEpilogueAreDeliveredAsLeaves() {
        let data = message(headers + [
            "Content-Type: multipart/mixed; boundary=\"XYZ\"", "",
            "PREAMBLE-MARKER hidden before the first boundary",
            "--XYZ", "Content-Type: text/plain", "", "first",
            "--XYZ--", "EPILOGUE-MARKER hidden after the last boundary", "",
        ])
        let result = parser.parse(data)
        #expect(result.paths == ["mime/preamble", "mime/1", "mime/epilogue"])
        let preamble = String(decoding: result.leaf("mime/preamble")?.part.data ?? Data(), as: UTF8.self)
        let epilogue = String(decoding: result.leaf("mime/epilogue")?.part.data ?? Data(), as: UTF8.self)
        #expect(preamble.contains("PREAMBLE-MARKER"))
        #expect(epilogue.contains("EPILOGUE-MARKER"))
    }

    @Test func multipartWithoutBoundaryStillDeliversItsBody() {
        let data = message(headers + ["Content-Type: multipart/mixed", "", "BODY-MARKER in a multipart with no boundary", ""])
        let result = parser.parse(data)
        #expect(result.leaves.contains { String(decoding: $0.part.data, as: UTF8.self).contains("BODY-MARKER") })
    }

    @Test(arguments: [
        "SGVsbG8gd29ybGQh!!!#$",          // characters outside the alphabet
        "SGVsbG8gd29ybGQ",                // incomplete final quantum
        "SGVsbG8=d29ybGQh",               // data after padding
        "SGVsbG8gd29ybGQh\r\n<script>",   // markup smuggled after a valid block
    ])
    func invalidBase64BodyIsUnchecked(body: String) throws {
        let data = message(headers + [
            "Content-Type: multipart/mixed; boundary=\"XYZ\"", "",
            "--XYZ", "Content-Type: text/plain", "", "first",
            "--XYZ", "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", "", body,
            "--XYZ--", "",
        ])
        let result = parser.parse(data)
        let finding = try #require(result.findings.first)
        #expect(result.rules == ["mime.base64-invalid"])
        #expect(finding.stage == .unchecked && finding.action == .quarantine && finding.part == "mime/2")
        #expect(result.paths == ["mime/1", "mime/2"])  // still delivered for scanning
    }

    @Test func strictBase64AcceptsWhatEveryDecoderReadsAlike() {
        #expect(StrictBase64.isValid(Data("SGVs\r\nbG8g d29y\tbGQh\r\n".utf8)))
        #expect(StrictBase64.isValid(Data("SGVsbG8=\r\n".utf8)))
        #expect(StrictBase64.isValid(Data("SGVsbA==".utf8)))
        #expect(StrictBase64.isValid(Data()))
        #expect(!StrictBase64.isValid(Data("SGVsb===".utf8)))
        #expect(!StrictBase64.isValid(Data("SGVsbG8-".utf8)))
        #expect(!StrictBase64.isValid(Data("SGV\0sbG8=".utf8)))
    }

    @Test func unknownTransferEncodingIsUnchecked() {
        let data = message(headers + [
            "Content-Type: application/octet-stream", "Content-Transfer-Encoding: x-rot13", "", "payload", "",
        ])
        let result = parser.parse(data)
        #expect(result.rules == ["mime.encoding-unknown"])
        #expect(result.paths == ["mime/1"])
    }

    @Test func transferEncodedAttachedMessageIsDecodedAndWalked() {
        let encoded = "RnJvbTogYUBleGFtcGxlLmt6DQpTdWJqZWN0OiBoaWRkZW4NCg0KcGF5bG9hZA0K"  // From/Subject/payload
        let nested = parser.parse(message(headers + [
            "Content-Type: multipart/mixed; boundary=\"XYZ\"", "",
            "--XYZ", "Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "", encoded,
            "--XYZ--", "",
        ]))
        #expect(nested.findings.isEmpty)
        #expect(nested.paths == ["mime/1/1"])
        #expect(nested.leaves.first?.part.data == Data("payload\r\n".utf8))
        let topLevel = parser.parse(message(headers + [
            "Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "", encoded, "",
        ]))
        #expect(topLevel.paths == ["mime/1/1"])
        #expect(topLevel.leaves.first?.part.data == Data("payload\r\n".utf8))
        let smuggled = parser.parse(message(headers + [
            "Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "", encoded + "!", "",
        ]))
        #expect(smuggled.rules == ["mime.base64-invalid"])
    }

    @Test func transferEncodedMultipartIsUnchecked() {
        let result = parser.parse(message(headers + [
            "Content-Type: multipart/mixed; boundary=\"XYZ\"", "Content-Transfer-Encoding: base64", "",
            "--XYZ", "Content-Type: text/plain", "", "first", "--XYZ--", "",
        ]))
        #expect(result.rules == ["mime.encoded-container"])
        #expect(result.findings.first?.part == "message")
    }

    @Test func conflictingContentTypeHeadersAreAmbiguous() {
        let data = message(headers + [
            "Content-Type: text/plain", "Content-Type: application/x-msdownload", "", "payload", "",
        ])
        #expect(parser.parse(data).rules.contains("mime.ambiguous"))
    }

    @Test func twoThousandPartsHitTheLimit() {
        var lines = headers + ["Content-Type: multipart/mixed; boundary=\"B\"", ""]
        for index in 0..<2000 { lines += ["--B", "Content-Type: text/plain", "", "part \(index)"] }
        lines += ["--B--", ""]
        let result = parser.parse(message(lines))
        #expect(result.rules == ["mime.limit"])
        #expect(result.findings.first?.stage == .unchecked)
        #expect(result.leaves.count < 1000)
    }

    @Test func hundredDeepMultipartNestingHitsTheLimit() {
        var lines = headers
        for level in 0..<100 {
            lines += ["Content-Type: multipart/mixed; boundary=\"L\(level)\"", "", "--L\(level)"]
        }
        lines += ["Content-Type: text/plain", "", "deep"]
        for level in (0..<100).reversed() { lines += ["--L\(level)--"] }
        lines += [""]
        let result = parser.parse(message(lines))
        #expect(result.rules == ["mime.limit"])
        #expect(result.findings.first?.detail.contains("deeper") == true)
    }

    @Test func hundredDeepAttachedMessagesHitTheLimit() {
        var lines: [String] = []
        for _ in 0..<100 { lines += ["From: a@example.kz", "Content-Type: message/rfc822", ""] }
        lines += ["From: a@example.kz", "Content-Type: text/plain", "", "deep", ""]
        let result = parser.parse(message(lines))
        #expect(result.rules == ["mime.limit"])
    }

    @Test func nestingWithinTheLimitIsFine() {
        var lines = headers
        for level in 0..<10 {
            lines += ["Content-Type: multipart/mixed; boundary=\"L\(level)\"", "", "--L\(level)"]
        }
        lines += ["Content-Type: text/plain", "", "deep"]
        for level in (0..<10).reversed() { lines += ["--L\(level)--"] }
        lines += [""]
        let result = parser.parse(message(lines))
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1/1/1/1/1/1/1/1/1/1"])
    }

    @Test func messagePartialIsUnchecked() {
        let data = message(headers + [
            "Content-Type: message/partial; id=\"abc@example.kz\"; number=1; total=2", "",
            "From: a@example.kz", "Subject: part one", "", "first half", "",
        ])
        let result = parser.parse(data)
        #expect(result.rules == ["mime.partial"])
        #expect(!result.leaves.isEmpty)
    }

    @Test func encryptedPartsAreUnchecked() throws {
        let smime = try PythonMail.build("""
            m = new()
            m.set_content(b'0\\x82\\x01\\x00opaque-cms', maintype='application', subtype='pkcs7-mime', params={'smime-type': 'enveloped-data', 'name': 'smime.p7m'})
            emit(m)
            """)
        #expect(parser.parse(smime).rules == ["mime.encrypted"])
        let pgp = message(headers + [
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"E\"", "",
            "--E", "Content-Type: application/pgp-encrypted", "", "Version: 1",
            "--E", "Content-Type: application/octet-stream", "",
            "-----BEGIN PGP MESSAGE-----", "", "hQEMA0", "-----END PGP MESSAGE-----",
            "--E--", "",
        ])
        let result = parser.parse(pgp)
        #expect(result.rules.contains("mime.encrypted"))
        #expect(result.findings.allSatisfy { $0.action == .quarantine })
    }
}
