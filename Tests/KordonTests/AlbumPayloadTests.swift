import Foundation
import KordonCore
import KordonTestSupport
import KordonXML
import Testing

/// Attachments of the FTS album 5.23.0 in elements its schemas type as strings, through
/// `kordon scan` and `kordon filter` with the whole album configured. Documents are written
/// by `fixtures/album/payloads/make-payload-documents.py` (the album generator, one run for
/// all of them) and each is valid per `xmllint --schema` against its album schema.
@Suite("Album payloads: attachments in string-typed elements", .timeLimit(.minutes(10)))
struct AlbumPayloadTests {
    /// How a document with text at one attachment element of the default map is written.
    struct Place: CustomStringConvertible, Sendable {
        /// The map entry it covers.
        var namespace: String, path: String
        /// The album root that has the element, and the path given to the generator.
        var root: String, setPath: String
        /// For elements no album root reaches: the element alone as a document of its
        /// namespace, carried in an ED_Container (whose DocBody is `xs:any`).
        var carried: (@Sendable (String) -> String)?

        var description: String { "\(root) \(setPath)" }
    }

    /// Every entry of ``PayloadElements/defaults``, each in a document that has it.
    static let places: [Place] = {
        let fts: [(String, String, String)] = [
            ("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDoc:*", "DocumentBody/FileData", "FreeBinaryDoc"),
            ("urn:customs.ru:Information:CustomsDocuments:ScanAttributeList:*", "DocumentBody/FileData", "ScanAttributeList"),
            ("urn:customs.ru:Information:ExchangeDocuments:PetitionToFTS:*", "DocumentBody/FileData", "PetitionToFTS"),
            ("urn:customs.ru:Information:RegistrationDocuments:ApplicationCustomsCarrierRegistry:*", "DocumentBody/FileData", "ApplicationCustomsCarrierRegistry"),
            ("urn:customs.ru:Information:RegistrationDocuments:ApplicationCustomsWarehousesRegistry:*", "DocumentBody/FileData", "ApplicationCustomsWarehousesRegistry"),
            ("urn:customs.ru:Information:RegistrationDocuments:ApplicationDutyFreeShopRegistry:*", "DocumentBody/FileData", "ApplicationDutyFreeShopRegistry"),
            ("urn:customs.ru:Information:RegistrationDocuments:ApplicationFreeWarehousesRegistry:*", "DocumentBody/FileData", "ApplicationFreeWarehousesRegistry"),
            ("urn:customs.ru:Information:RegistrationDocuments:ApplicationWarehouseOwnersRegistry:*", "DocumentBody/FileData", "ApplicationWarehouseOwnersRegistry"),
            ("urn:customs.ru:Information:SQDocuments:FsTekConclPermit:*", "ConslusionsDocument/FileData", "FsTekConclPermit"),
            ("urn:customs.ru:Information:SQDocuments:FsVtsTekLicense:*", "ConslusionsDocument/FileData", "FsVtsTekLicense"),
            ("urn:customs.ru:Information:CustomsDocuments:ActAuditAccountSystem:*", "AttachedFile/FileContent", "ActAuditAccountSystem"),
            ("urn:customs.ru:Information:CustomsDocuments:DecisionMoveFreeWHGoods:*", "AttachedFile/FileContent", "DecisionMoveFreeWHGoods"),
            ("urn:customs.ru:Information:CustomsAuditDocuments:DecisionPerformAuditField:*", "AttachedFile/FileContent", "DecisionPerformAuditField"),
            ("urn:customs.ru:Information:CustomsAuditDocuments:NotifPerformAudit:*", "AttachedFile/FileContent", "NotifPerformAudit"),
            ("urn:customs.ru:Information:CustomsAuditDocuments:PermissionUseArrestedGoods:*", "AttachedFile/FileContent", "PermissionUseArrestedGoods"),
            ("urn:customs.ru:Information:CustomsAuditDocuments:ReqDoc4Audit:*", "AttachedFile/FileContent", "ReqDoc4Audit"),
            ("urn:customs.ru:Information:CustomsAuditDocuments:ResolutionAudit:*", "AttachedFile/FileContent", "ResolutionAudit"),
            ("urn:customs.ru:Information:RegistrationDocuments:AppInclAEORegistry:*", "FileContent", "AppInclAEORegistry"),
            ("urn:customs.ru:Information:CustomsDocuments:AditionalInformation:*", "AppliedDocument/Base", "AditionalInformation"),
            ("urn:customs.ru:Information:CustomsDocuments:NotificationTRP:*", "AppliedDocument/Base", "NotificationTRP"),
            ("urn:customs.ru:ApplicPrelimOriginCountry:*", "AppliedDocument/Base", "ApplicPrelimOriginCountry"),
            ("urn:customs.ru:GoodsClassification:*", "Base", "GoodsClassification"),
            ("urn:customs.ru:IntellectualProperty:*", "AppliedDocument/Base", "IntellectualProperty"),
            ("urn:customs.ru:IntellectualPropertyDecision:*", "AppliedDocument/Base", "IntellectualPropertyDecision"),
            ("urn:customs.ru:Information:CustomsDocuments:ActInspPhoto:*", "PreviewInfo/Image", "ActInspPhoto"),
            ("urn:customs.ru:Information:CustomsDocuments:ATDCommon:*", "PreviewInfo/Preview", "AddActInsp"),
        ]
        var places = fts.map { Place(namespace: $0.0, path: $0.1, root: $0.2, setPath: $0.1) }
        func carried(_ namespace: String, _ path: String, _ element: @escaping @Sendable (String) -> String) -> Place {
            Place(namespace: namespace, path: path, root: "ED_Container", setPath: "DocBody", carried: element)
        }
        places.append(carried("urn:EEC:M:SimpleDataObjects:v*", "DocBinaryText") {
            "<csdo:DocBinaryText xmlns:csdo=\"urn:EEC:M:SimpleDataObjects:v0.4.14\">\($0)</csdo:DocBinaryText>"
        })
        for name in ["SignatureImagePicture", "StampImagePicture"] {
            places.append(carried("urn:EEC:M:CA:SimpleDataObjects:v*", name) {
                "<casdo:\(name) xmlns:casdo=\"urn:EEC:M:CA:SimpleDataObjects:v1.8.4\">\($0)</casdo:\(name)>"
            })
        }
        for name in ["SignatureValue", "X509Certificate", "X509CRL"] {
            places.append(carried("http://www.w3.org/2000/09/xmldsig#", name) { text in
                let inner = name == "SignatureValue" ? "<ds:SignatureValue>\(text)</ds:SignatureValue>"
                    : "<ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:\(name)>\(text)</ds:\(name)></ds:X509Data></ds:KeyInfo>"
                return "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo/>\(inner)</ds:Signature>"
            })
        }
        return places
    }()

    /// EICAR, and EICAR followed by 100 NUL bytes: 224 base64 characters of mostly `A`, which
    /// neither the 256-character fallback nor the text decoders took (it passed clean).
    static let payloads: [(name: String, bytes: Data)] = [("eicar", eicar), ("eicar-nul", eicar + Data(count: 100))]

    @Test("the table covers every entry of the default map")
    func coversTheMap() {
        let covered = Set(Self.places.map { "\($0.namespace) \($0.path)" })
        let listed = Set(PayloadElements.defaults.elements.map { "\($0.namespace.description) \($0.pathDescription)" })
        #expect(covered == listed)
    }

    @Test("EICAR (92 base64 characters) and EICAR with NUL bytes in every attachment element of the default map: quarantined, virus at the element")
    func eicarInEveryAttachmentElement() throws {
        let directory = try temporaryDirectory("album-payloads")
        defer { try? FileManager.default.removeItem(at: directory) }
        var jobs: [[String: Any]] = []
        for (index, place) in Self.places.enumerated() {
            for payload in Self.payloads {
                let text = payload.bytes.base64EncodedString()
                let name = "\(index)-\(place.root)-\(payload.name)"
                if let carried = place.carried {
                    jobs.append(["name": name, "root": place.root, "xml": [place.setPath: carried(text)]])
                } else {
                    jobs.append(["name": name, "root": place.root, "sets": [place.setPath: text]])
                }
            }
        }
        let generated = try PayloadDocuments.generate(jobs, in: directory)
        let reports = try scan(directory)
        for (index, place) in Self.places.enumerated() {
            for payload in Self.payloads {
                let name = "\(index)-\(place.root)-\(payload.name)"
                let document = try #require(generated[name], "\(name) not generated")
                #expect(document.valid && document.placed, "\(name): \(document.error)")
                let report = try #require(reports[document.file], "\(name) not scanned")
                #expect(report.verdict == .quarantined, "\(place) \(payload.name): \(report.findings)")
                let virus = report.findings.filter { $0.stage == .virus && Self.elementPath($0.part).hasSuffix("/" + place.path) }
                #expect(!virus.isEmpty, "\(place) \(payload.name): no virus at \(place.path): \(report.findings)")
            }
        }
    }

    @Test("EICAR base64 in string elements outside the map (FreeDoc text): 92 characters, 224 of mostly NUL bytes, and those in groups of four: held as a virus")
    func shortEICARInStringElement() throws {
        let mostlyNUL = (eicar + Data(count: 100)).base64EncodedString()
        let grouped = stride(from: 0, to: mostlyNUL.count, by: 4).map { String(mostlyNUL.dropFirst($0).prefix(4)) }.joined(separator: " ")
        for (name, text) in Self.payloads.map({ ($0.name, $0.bytes.base64EncodedString()) }) + [("eicar-nul-grouped", grouped)] {
            let payload = (name: name, text: text)
            let document = try albumDocument("FreeDoc", ["--mode", "full", "--set", "TextPara=\(payload.text)"])
            #expect(String(decoding: document, as: UTF8.self).contains(payload.text))
            let (result, report) = try filter(document)
            #expect(result.status == 1, "\(payload.name): \(report.findings)")
            #expect(report.findings.contains { $0.stage == .virus && $0.part.contains("TextPara") }, "\(payload.name): \(report.findings)")
        }
    }

    @Test("a 12-byte file (16 base64 characters) in a string element is decoded and scanned: a signature for it holds the message")
    func twelveByteFile() throws {
        let directory = try temporaryDirectory("album-tiny")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = Data([0x4D, 0x5A, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0xFF, 0xFF])
        try "Kordon.Test.Tiny:0:0:\(file.map { String(format: "%02x", $0) }.joined())\n"
            .write(to: directory.appendingPathComponent("tiny.ndb"), atomically: true, encoding: .utf8)
        let text = file.base64EncodedString()
        #expect(text.count == 16)
        let document = try albumDocument("FreeDoc", ["--mode", "full", "--set", "TextPara=\(text)"])
        let (result, report) = try filter(document, ["--signatures", directory.path])
        #expect(result.status == 1, "\(report.findings)")
        #expect(report.findings.contains { $0.rule.hasPrefix("Kordon.Test.Tiny") && $0.part.contains("TextPara") }, "\(report.findings)")
        let (clean, cleanReport) = try filter(document)
        #expect(clean.status == 0, "without the signature the same document passes: \(cleanReport.findings)")
    }

    @Test("an attachment element whose text is not base64 is held (xml.base64-undecodable, unchecked); a clean file there passes byte for byte")
    func notBase64InAttachment() throws {
        let prose = try albumDocument("FreeBinaryDoc", ["--set", "DocumentBody/FileData=Договор поставки, см. вложение"])
        let (held, report) = try filter(prose)
        #expect(held.status == 1)
        #expect(report.findings.contains { $0.rule == "xml.base64-undecodable" && $0.stage == .unchecked && $0.part.hasSuffix("/DocumentBody/FileData") },
                "\(report.findings)")
        let file = Data((0..<40).map { UInt8(($0 * 37 + 11) % 256) })
        let clean = try albumDocument("FreeBinaryDoc", ["--set", "DocumentBody/FileData=\(file.base64EncodedString())"])
        let (passed, cleanReport) = try filter(clean)
        #expect(passed.status == 0, "\(cleanReport.findings)")
        #expect(passed.stdout == clean)
    }

    @Test("schemas.payloads adds an attachment element: FreeDoc TextPara configured, prose there is held; bad entries are refused naming the line")
    func configuredPayloadElement() throws {
        let directory = try temporaryDirectory("album-payload-config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("kordon.yaml")
        try """
            schemas:
              payloads:
                - namespace: "urn:customs.ru:Information:CustomsDocuments:FreeDoc:*"
                  elements: [TextSection/TextPara, TextPara]
            """.write(to: config, atomically: true, encoding: .utf8)
        let document = try albumDocument("FreeDoc", ["--mode", "full", "--set", "TextPara=Груз прибыл на склад временного хранения"])
        let (plain, plainReport) = try filter(document)
        #expect(plain.status == 0, "\(plainReport.findings)")
        let (held, report) = try filter(document, ["--config", config.path])
        #expect(held.status == 1)
        #expect(report.findings.contains { $0.rule == "xml.base64-undecodable" && $0.part.contains("TextPara") }, "\(report.findings)")

        for (yaml, complaint) in [
            ("schemas:\n  payloads:\n    - namespace: \"urn:customs.ru:*:FreeDoc\"\n      elements: [TextPara]\n", "wildcard"),
            ("schemas:\n  payloads:\n    - namespace: \"urn:x:Doc:*\"\n      elements: [\"A//B\"]\n", "element path"),
            ("schemas:\n  payloads:\n    - namespace: \"urn:x:Doc:*\"\n", "needs elements"),
            ("schemas:\n  payloads:\n    - namespace: \"urn:x:Doc:*\"\n      elements: [A]\n      typo: 1\n", "typo"),
        ] {
            try yaml.write(to: config, atomically: true, encoding: .utf8)
            let refused = try kordon(["filter", "--config", config.path], stdin: document)
            #expect(refused.status == 2, "\(yaml)")
            #expect(refused.stderr.contains("kordon.yaml:") && refused.stderr.contains("schemas.payloads") && refused.stderr.contains(complaint),
                    "\(refused.stderr)")
        }
    }

    @Test("clean documents of every album root, with a clean file in each attachment element: none is held, no xml, unchecked or virus finding")
    func cleanDocumentsOfEveryRoot() throws {
        let directory = try temporaryDirectory("album-payloads-clean")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = Data((0..<300).map { UInt8(($0 * 73 + 5) % 256) }).base64EncodedString()
        let sets = Dictionary(uniqueKeysWithValues: ["FileData", "FileContent", "AppliedDocument/Base", "PreviewInfo/Image", "PreviewInfo/Preview"].map { ($0, file) })
        let generated = try PayloadDocuments.generate([], all: ["modes": ["minimal"], "seeds": ["7"], "sets": sets], in: directory)
        let valid = generated.values.filter(\.valid)
        #expect(valid.count >= 650, "only \(valid.count) valid documents")
        for document in generated.values where !document.valid {
            try? FileManager.default.removeItem(atPath: document.file)
        }
        let reports = try scan(directory)
        #expect(reports.count == valid.count)
        for (source, report) in reports {
            let suspicious = report.findings.filter { [.virus, .unchecked, .xml, .error].contains($0.stage) }
            #expect(report.verdict != .quarantined && suspicious.isEmpty, "\(source): \(report.findings)")
        }
    }

    // MARK: - Helpers

    /// A finding's part without positions (`[2]`) and without the `xml:` prefix.
    static func elementPath(_ part: String) -> String {
        part.replacingOccurrences(of: #"\[\d+\]"#, with: "", options: .regularExpression)
    }

    /// `kordon scan --format ndjson --schemas <album>` over `directory/docs`, reports by source path.
    func scan(_ directory: URL) throws -> [String: Report] {
        let result = try kordon(["scan", "--format", "ndjson", "--schemas", try albumDirectory().path, directory.appendingPathComponent("docs").path])
        #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
        return Dictionary(try result.reports().map { ($0.message.source, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// `kordon filter --schemas <album>` on `data`, with the JSON report.
    func filter(_ data: Data, _ arguments: [String] = []) throws -> (CommandResult, Report) {
        let directory = try temporaryDirectory("album-payload-filter")
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("report.json")
        let result = try kordon(["filter", "--schemas", try albumDirectory().path, "--report", report.path] + arguments, stdin: data)
        return (result, try JSONDecoder().decode(Report.self, from: try Data(contentsOf: report)))
    }
}

/// Album documents with given text at given elements: `fixtures/album/payloads/make-payload-documents.py`,
/// one run of the album generator for all of them, each checked by `xmllint --schema`.
enum PayloadDocuments {
    /// One document the script wrote.
    struct Generated: Decodable {
        var file = "", error = ""
        var valid = false, placed = false
        enum CodingKeys: String, CodingKey { case file, error, valid, placed }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decodeIfPresent(String.self, forKey: .file) ?? ""
            error = try c.decodeIfPresent(String.self, forKey: .error) ?? ""
            valid = try c.decodeIfPresent(Bool.self, forKey: .valid) ?? false
            placed = try c.decodeIfPresent(Bool.self, forKey: .placed) ?? false
        }
    }

    /// Writes `jobs` (and, with `all`, every root of the album) into `directory/docs`; by job name.
    static func generate(_ jobs: [[String: Any]], all: [String: Any]? = nil, in directory: URL) throws -> [String: Generated] {
        var spec: [String: Any] = ["album": try albumDirectory().path, "out": directory.appendingPathComponent("docs").path, "documents": jobs]
        if let all { spec["all"] = all }
        let specFile = directory.appendingPathComponent("spec.json")
        try JSONSerialization.data(withJSONObject: spec).write(to: specFile)
        let script = repositoryRoot.appendingPathComponent("fixtures/album/payloads/make-payload-documents.py")
        let result = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path, specFile.path])
        try #require(result.status == 0, "make-payload-documents.py: \(result.stderr)")
        struct Output: Decodable { var documents: [String: Generated] }
        return try JSONDecoder().decode(Output.self, from: result.stdout).documents
    }
}
