import Foundation
import KordonCore
import KordonTestSupport
import Testing
@testable import KordonXML

/// Clean documents of every root of the album, written by fixtures/album/payloads/make-payload-documents.py
/// (xmllint agrees each is valid), with a clean binary file in every attachment element of
/// the default map that a root has: what the short fallback costs on real formats.
@Suite("Album payloads: false payloads on clean documents", .timeLimit(.minutes(10)))
struct AlbumFalsePayloadTests {
    /// Thresholds whose cost is reported besides ``ShortBase64/minimumLength``.
    static let thresholds = [8, 12, 16, 20, 24]

    struct Tally {
        var documents = 0, elements = 0, attachments = 0, falsePayloads = 0
        /// Payloads the markup decoders (``EncodedText`` on attribute values and namespace URIs) took.
        var markupPayloads: [String] = []
        var findings: [String] = []
        var examples: [String] = []
        var shortByThreshold: [Int: Int] = [:]
        var shortExamples: [Int: Set<String>] = [:]
    }

    @Test("clean documents of every album root: only attachments are decoded, nothing is held; the short fallback's cost by threshold")
    func cleanAlbumDocuments() throws {
        let album = try albumDirectory()
        let folder = try temporaryDirectory("album-fp")
        defer { try? FileManager.default.removeItem(at: folder) }
        var seed = SystemRandomNumberGenerator()
        let file = Data((0..<300).map { _ in UInt8.random(in: 0...255, using: &seed) })
        let clean = file.base64EncodedString()
        let sets = Dictionary(uniqueKeysWithValues: ["FileData", "FileContent", "AppliedDocument/Base", "PreviewInfo/Image", "PreviewInfo/Preview"].map { ($0, clean) })
        let report = try PayloadDocuments.generate([], all: ["modes": ["minimal", "full"], "seeds": ["1"], "sets": sets], in: folder)
        let valid = report.filter { $0.value.valid }
        #expect(valid.count >= 1300, "only \(valid.count) valid documents")

        let schemas = try SchemaRegistry(directories: [album])
        var tally = Tally()
        for (_, entry) in valid.sorted(by: { $0.key < $1.key }) {
            try Self.count(Data(contentsOf: URL(fileURLWithPath: entry.file)), schemas: schemas, clean: file, into: &tally)
        }
        let costs = Self.thresholds.map { "\($0): \(tally.shortByThreshold[$0, default: 0]) (\(tally.shortExamples[$0, default: []].sorted().prefix(5).joined(separator: ", ")))" }
        print("""
            album clean documents: \(tally.documents) documents, \(tally.elements) element texts, \
            \(tally.attachments) attachments decoded, \(tally.falsePayloads) false payloads in element text \(tally.examples.prefix(5)), \
            \(tally.markupPayloads.count) in attribute values and namespace URIs \(tally.markupPayloads.prefix(3)), \
            \(tally.findings.count) findings \(tally.findings.prefix(5)); texts the short fallback would take, by minimum length: \
            \(costs.joined(separator: "; "))
            """)
        #expect(tally.falsePayloads == 0, "false payloads: \(tally.examples.prefix(10))")
        #expect(tally.findings.isEmpty, "\(tally.findings.prefix(10))")
        #expect(tally.shortByThreshold[ShortBase64.minimumLength, default: 0] == 0)
    }

    /// Extracts `data`'s payloads as the inspector does and sorts them: the clean file at an
    /// attachment element, a value of a typed element (the generator writes random base64
    /// there), or a false payload; then counts what the short fallback would take at each threshold.
    static func count(_ data: Data, schemas: SchemaRegistry, clean: Data, into tally: inout Tally) throws {
        guard case .success(let prepared) = XMLInput.prepare(data, limits: Limits()) else {
            tally.findings.append("not prepared")
            return
        }
        let document = try XMLDocument(parsing: prepared)
        let root = try #require(document.root)
        let index = schemas.typeIndex(for: [root.namespace])
        var extractor = PayloadExtractor(path: .message, index: index, payloadElements: .defaults, maxPayloads: 1000)
        extractor.extract(from: document)
        tally.documents += 1
        tally.findings += extractor.findings.map { "\($0.rule) at \($0.part)" }
        var typedNames: Set<String> = []
        document.walk { node, _ in
            let name = node.qname
            if index.base64Elements.contains(name) || PayloadElements.defaults.contains(name, at: node) {
                typedNames.insert(name.localName)
                return
            }
            tally.elements += 1
            node.withTextBytes { text in
                for threshold in thresholds where ShortBase64.decodeFile(text, minimumLength: threshold) != nil {
                    tally.shortByThreshold[threshold, default: 0] += 1
                    tally.shortExamples[threshold, default: []].insert(String(decoding: text, as: UTF8.self))
                }
            }
        }
        for payload in extractor.payloads {
            let last = payload.path.description.split(separator: "/").last.map { String($0.prefix { $0 != "[" }) } ?? ""
            if last.hasPrefix("@") {
                tally.markupPayloads.append("\(payload.path)")
            } else if payload.data == clean || typedNames.contains(last) {
                tally.attachments += 1
            } else {
                tally.falsePayloads += 1
                tally.examples.append("\(payload.path)")
            }
        }
    }
}
