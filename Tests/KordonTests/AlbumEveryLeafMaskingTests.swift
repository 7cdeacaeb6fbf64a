import Foundation
import KordonCore
import KordonCrypto
import KordonRules
import KordonTestSupport
import KordonXML
import Testing

/// Every value of real-format documents replaced at once: documents of a spread of the
/// album's roots, generated with every optional element (fixtures/album/make-album-documents.py,
/// valid per xmllint), get every leaf element's text masked, pseudonymized or stripped the
/// way the restricted-data stage writes it; each result must still be valid for
/// `xmllint --schema`. A value with no fitting replacement is left as it is here (the stage
/// holds such a message); those may only be of types that admit no hiding value.
@Suite("Album: every leaf replaced, every document still valid", .timeLimit(.minutes(10)))
struct AlbumEveryLeafMaskingTests {
    static let album = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/formats/fts-5.23.0")
    /// Besides every 25th root: the families the packs look at most.
    static let chosen = ["ESADout_CU.xsd:ESADout_CU", "EEC_GoodsDeclaration.xsd:GoodsDeclaration",
                         "EEC_TransitDeclaration.xsd:TransitDeclaration", "PassengerDeclaration.xsd:PassengerDeclaration",
                         "ReqOpenProc.xsd:ReqOpenProc", "AutoBill.xsd:AutoBill"]

    /// `File.xsd:Element` of the roots this test generates.
    private func roots(_ generator: String) throws -> [String] {
        let listed = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", generator, "--album", Self.album.path, "--list"])
        try #require(listed.status == 0, "\(listed.stderr)")
        let all = listed.text.split(separator: "\n").map(String.init)
        return Array(Set(stride(from: 0, to: all.count, by: 25).map { all[$0] } + Self.chosen.filter(all.contains))).sorted()
    }

    @Test("masked, pseudonymized and stripped, every leaf of 30-odd album documents stays valid")
    func everyLeaf() throws {
        try #require(FileManager.default.fileExists(atPath: Self.album.appendingPathComponent("ESADout_CU.xsd").path),
                     "the album of formats is not at \(Self.album.path)")
        let directory = try temporaryDirectory("every-leaf")
        defer { try? FileManager.default.removeItem(at: directory) }
        let generator = repositoryRoot.appendingPathComponent("fixtures/album/make-album-documents.py").path
        let roots = try roots(generator)
        let jobs = roots.map { ["root": $0, "mode": "full", "seed": 11, "output": directory.appendingPathComponent(Self.stem($0) + ".xml").path] as [String: Any] }
        let jobsFile = directory.appendingPathComponent("jobs.json")
        try JSONSerialization.data(withJSONObject: jobs).write(to: jobsFile)
        let made = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", generator, "--album", Self.album.path, "--batch", jobsFile.path])
        try #require(made.status == 0, "\(made.stderr)")

        let schemas = try SchemaRegistry(directories: [Self.album])
        let library = try RuleLibrary.load(directories: [repositoryRoot.appendingPathComponent("rules")],
                                           pseudonymKey: try HMACSHA256(key: Array("every leaf".utf8)))
        let rules = library.everyPack
        var replaced = 0, fitted = 0
        var unfitting: [String: Int] = [:]
        for root in roots {
            let original = try Data(contentsOf: directory.appendingPathComponent(Self.stem(root) + ".xml"))
            for action in [RuleAction.mask, .pseudonymize, .strip] {
                let document = try XMLEditableDocument(parsing: original, limits: Limits())
                document.forEachText(skippingBinaryOf: schemas) { (site: XMLTextSite, text: [UInt8]) -> [UInt8]? in
                    guard site.kind == .elementText,
                          let type = document.valueType(ofElementAt: site.path, schemas: schemas), type.constrainsText else { return nil }
                    let replacement: [UInt8]? = rules.replacement(for: text, ruleID: nil, action: action, fitting: type.accepts)
                    guard let replacement else {
                        unfitting[type.summary, default: 0] += 1
                        return nil
                    }
                    replaced += 1
                    if replacement != rules.replacement(for: text, ruleID: nil, action: action) { fitted += 1 }
                    return replacement
                }
                let output = directory.appendingPathComponent("\(Self.stem(root))-\(action.rawValue).xml")
                try document.serialize().write(to: output)
                let schema = Self.album.appendingPathComponent(String(root.split(separator: ":")[0])).path
                let lint = try run(URL(fileURLWithPath: "/usr/bin/xmllint"), ["--noout", "--nonet", "--schema", schema, output.path])
                #expect(lint.status == 0, "\(root) \(action): \(lint.stderr.prefix(400))")
            }
        }
        print("every leaf: \(roots.count) documents × 3 actions, \(replaced) values replaced, \(fitted) written to fit their type; without a fitting replacement: \(unfitting.sorted { $0.value > $1.value }.prefix(8))")
        #expect(replaced > 10_000 && fitted > 1_000)
        // Only types that admit no hiding value: booleans, enumerations, fixed literals.
        for summary in unfitting.keys {
            #expect(summary.contains("boolean") || summary.contains("listed values") || summary.contains("pattern"), "\(summary)")
        }
    }

    private static func stem(_ root: String) -> String {
        root.replacingOccurrences(of: ".xsd:", with: "-")
    }
}
