import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// Documents of the real album of formats (FTS 5.23.0 with the EEC's schemas), written by
/// `fixtures/album/make-album-documents.py` and confirmed by `xmllint --schema` (valid, or
/// invalid for the broken ones), through the `kordon` binary with the whole album configured.
/// One `kordon scan` covers many documents: one start, each namespace compiled once.
@Suite("Album documents of many families through kordon", .timeLimit(.minutes(10)))
struct AlbumDocumentTests {
    /// Minimal documents (required content only): declarations and other documents that name
    /// people in optional places, which full documents fill and the packs rightly sanitize.
    static let minimalRoots = [
        "ESADout_CU", "EEC_GoodsDeclaration", "EEC_TransitDeclaration", "EEC_CustomsValueDeclaration",
        "EEC_CustomsControlUnifiedDoc", "WHGoodOut", "DO1Report", "CommercialAct", "PassengerCDBasicDocument",
        "TransportMeanCardOut", "GuaranteeCustomsReceipt", "KDTout_CU",
    ]
    /// Full documents (every optional element once): families with no personal-data places.
    static let fullRoots = [
        "ED_Container", "FreeBinaryDoc", "ATA_CarnetCover", "PI_ConfirmDocs", "AEORegistryCertificate", "ActInspPhoto",
        "MPODispatch", "PIAirInformationCU", "OEZ_NotifReg", "EPS_InfoRequest", "TOR_DepartureTransport",
    ]
    /// Broken documents (make-album-documents.py options). "missing" takes a seeded required element
    /// anywhere in the document (or the one at target), so findings are not all at the root's children.
    static let brokenDocuments: [[String: String]] = [
        ["root": "ESADout_CU", "invalid": "missing", "seed": "1", "random_target": "1"],
        ["root": "ESADout_CU", "invalid": "missing", "seed": "1", "target": "ESADout_CUGoods/GoodsNumeric"],
        ["root": "ESADout_CU", "invalid": "pattern", "seed": "1"],
        ["root": "EEC_GoodsDeclaration", "invalid": "missing", "seed": "2", "random_target": "1"],
        ["root": "EEC_GoodsDeclaration", "invalid": "pattern", "seed": "1"],
        ["root": "EEC_TransitDeclaration", "invalid": "missing", "seed": "3", "random_target": "1"],
        ["root": "KDTout_CU", "mode": "full", "invalid": "pattern", "seed": "4"],
        ["root": "ATA_CarnetCover", "mode": "full", "invalid": "enumeration", "seed": "1"],
        ["root": "WHGoodOut", "mode": "full", "invalid": "enumeration", "seed": "2"],
        ["root": "DO1Report", "mode": "full", "invalid": "enumeration", "seed": "3"],
        ["root": "ED_Container", "mode": "full", "invalid": "missing", "seed": "5", "random_target": "1"],
        ["root": "FreeBinaryDoc", "mode": "full", "invalid": "missing", "seed": "6", "random_target": "1"],
        ["root": "ShippingManifest", "invalid": "pattern", "seed": "1"],
    ]

    @Test("valid documents of 23 roots (FTS and EEC families) are clean with no finding, passed unchanged")
    func validDocumentsAreClean() throws {
        let album = try albumDirectory()
        let scratch = try temporaryDirectory("kordon-album-valid")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let jobs = Self.minimalRoots.map { ["root": $0, "mode": "minimal", "seed": "11"] }
            + Self.fullRoots.map { ["root": $0, "mode": "full", "seed": "11"] }
        let files = try writeAlbumDocuments(jobs, into: scratch, album: album)

        let result = try kordon(["scan", "--format", "ndjson", "--schemas", album.path] + files.map(\.path))
        #expect(result.status == 0, "\(result.stderr)")
        let reports = try result.reports()
        #expect(reports.count == files.count)
        for report in reports {
            #expect(report.verdict == .clean, "\(report.message.source): \(report.findings.map { "\($0.rule) \($0.part)" })")
            #expect(report.findings.map(\.rule) == [], "\(report.message.source)")
            #expect(report.message.format == "xml")
            #expect(report.output?.sha256 == report.message.sha256, "\(report.message.source) was not passed unchanged")
        }
        // Every family was validated against its own schema, not waved through as unknown XML.
        let types = Set(reports.compactMap(\.message.documentType))
        #expect(types.count == files.count)
        #expect(types.contains("{urn:EEC:R:055:GoodsDeclaration:v1.0.0}GoodsDeclaration"), "\(types)")
        #expect(types.contains("{urn:EEC:R:048:TransitDeclaration:v1.0.0}TransitDeclaration"), "\(types)")
        #expect(types.contains("{urn:customs.ru:Information:CustomsDocuments:ESADout_CU:5.23.0}ESADout_CU"), "\(types)")
    }

    @Test("kordon filter passes a full ED_Container and an R.055 declaration byte for byte")
    func filterPassesBytes() throws {
        let album = try albumDirectory()
        for (root, mode) in [("ED_Container", "full"), ("EEC_GoodsDeclaration", "minimal")] {
            let document = try albumDocument(root, ["--mode", mode, "--seed", "12"])
            let result = try kordon(["filter", "--schemas", album.path], stdin: document)
            #expect(result.status == 0, "\(root): \(result.stderr)")
            #expect(result.stdout == document, "\(root) was not passed byte for byte")
        }
    }

    @Test("a required element removed, a pattern broken, a value outside an enumeration: quarantined as schema.invalid at the element")
    func invalidDocumentsAreHeldAtTheElement() throws {
        let album = try albumDirectory()
        let scratch = try temporaryDirectory("kordon-album-invalid")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = try writeAlbumDocuments(Self.brokenDocuments, into: scratch, album: album)

        let result = try kordon(["scan", "--format", "ndjson", "--schemas", album.path] + files.map(\.path))
        #expect(result.status == 1, "\(result.stderr)")
        let reports = Dictionary(uniqueKeysWithValues: try result.reports().map { ($0.message.source, $0) })
        #expect(reports.count == files.count)
        var deepPaths = 0
        for file in files {
            let manifest = try manifest(of: file)
            let report = try #require(reports[file.path], "no report for \(file.lastPathComponent)")
            let schemaFindings = report.findings.filter { $0.rule == "schema.invalid" }
            #expect(report.verdict == .quarantined, "\(file.lastPathComponent)")
            #expect(report.output == nil, "\(file.lastPathComponent): a held document is not passed on")
            #expect(schemaFindings.map(\.part).contains("xml:" + manifest.part),
                    "\(file.lastPathComponent) (\(manifest.mutation) of \(manifest.element)): expected xml:\(manifest.part), got \(schemaFindings.map(\.part))")
            #expect(schemaFindings.allSatisfy { $0.stage == .schema })
            if manifest.element.split(separator: "/").count > 2 { deepPaths += 1 }
        }
        #expect(deepPaths >= 7, "the broken elements should not all be children of the root")
    }

    @Test("kordon filter holds a broken R.055 declaration: exit 1, nothing passed on, the finding at the element")
    func filterHoldsBrokenDocument() throws {
        let album = try albumDirectory()
        let scratch = try temporaryDirectory("kordon-album-filter")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = try writeAlbumDocuments([["root": "EEC_GoodsDeclaration", "invalid": "pattern", "seed": "7"]],
                                            into: scratch, album: album)
        let manifest = try manifest(of: files[0])
        let reportFile = scratch.appendingPathComponent("report.json")
        let result = try kordon(["filter", "--schemas", album.path, "--report", reportFile.path],
                                stdin: try Data(contentsOf: files[0]))
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        #expect(report.findings.contains { $0.rule == "schema.invalid" && $0.part == "xml:" + manifest.part },
                "\(report.findings.map { "\($0.rule) \($0.part)" })")
        // The finding quotes no value: the broken one is masked in libxml2's message.
        #expect(!report.findings.contains { $0.detail.contains(manifest.brokenValue ?? "\u{0}") })
    }
}

/// What make-album-documents.py says it generated or broke (its --manifest).
private struct AlbumManifest: Decodable {
    var root: String
    var mutation: String
    var element: String
    var part: String
    var brokenValue: String?

    enum CodingKeys: String, CodingKey {
        case root, mutation, element, part
        case brokenValue = "broken_value"
    }
}

/// Generates album documents in one run of the generator (`--batch`, xmllint checking each one),
/// one file per job named after its root, mode, mutation and seed, each with a manifest beside it.
private func writeAlbumDocuments(_ jobs: [[String: String]], into directory: URL, album: URL) throws -> [URL] {
    var batch: [[String: Any]] = []
    var files: [URL] = []
    for job in jobs {
        let name = [job["root"], job["mode"], job["invalid"], job["target"]?.replacingOccurrences(of: "/", with: "_"),
                    job["seed"]].compactMap { $0 }.joined(separator: "-")
        let file = directory.appendingPathComponent(name + ".xml")
        var entry: [String: Any] = job.filter { !$0.value.isEmpty }
        if entry["random_target"] != nil { entry["random_target"] = true }
        entry["output"] = file.path
        entry["manifest"] = file.path + ".json"
        batch.append(entry)
        files.append(file)
    }
    let jobsFile = directory.appendingPathComponent("jobs.json")
    try JSONSerialization.data(withJSONObject: batch).write(to: jobsFile)
    let script = repositoryRoot.appendingPathComponent("fixtures/album/make-album-documents.py").path
    let result = try run(URL(fileURLWithPath: "/usr/bin/env"),
                         ["python3", script, "--album", album.path, "--batch", jobsFile.path, "--check"])
    try #require(result.status == 0, "make-album-documents.py --batch failed: \(result.stderr)")
    return files
}

/// The manifest written beside a generated broken document.
private func manifest(of file: URL) throws -> AlbumManifest {
    let data = try Data(contentsOf: URL(fileURLWithPath: file.path + ".json"))
    return try JSONDecoder().decode(AlbumManifest.self, from: data)
}
