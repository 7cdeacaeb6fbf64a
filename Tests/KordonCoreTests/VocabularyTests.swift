import Foundation
import KordonCore
import Testing

/// The shared vocabulary: part paths, verdicts, findings and the report's JSON shape.
@Suite("vocabulary", .timeLimit(.minutes(10)))
struct VocabularyTests {
    @Test("part paths render as docs/design.md says: message, mime/2, mime/2/1, …/xml:/A/B")
    func partPaths() {
        #expect(PartPath.message.description == "message")
        #expect(PartPath.message.mime([2]).description == "mime/2")
        #expect(PartPath.message.mime([2, 1]).description == "mime/2/1")
        #expect(PartPath.message.mime([2]).xml("/GoodsDeclaration/AttachedDocument[1]/Content").description
                == "mime/2/xml:/GoodsDeclaration/AttachedDocument[1]/Content")
        #expect(PartPath.message.xml("/A/B").description == "xml:/A/B")
    }

    @Test("any quarantine action quarantines; a change sanitizes; reports alone stay clean")
    func verdictFromFindings() {
        let report = Finding(stage: .restricted, rule: "r", part: .message, action: .report, detail: "d")
        let mask = Finding(stage: .restricted, rule: "r", part: .message, action: .mask, detail: "d")
        let virus = Finding(stage: .virus, rule: "v", part: .message, detail: "d")
        #expect(Verdict.deciding([]) == .clean)
        #expect(Verdict.deciding([report]) == .clean)
        #expect(Verdict.deciding([report, mask]) == .sanitized)
        #expect(Verdict.deciding([mask, virus]) == .quarantined)
    }

    @Test("a report is one line of JSON with the keys of docs/design.md and output null when quarantined")
    func reportShape() throws {
        let report = Report(message: .init(source: "in/0001.xml", sha256: "ab", size: 1, format: "xml",
                                           documentType: "{urn:x}Doc", route: .init(from: "KZ", to: "RU")),
                            verdict: .quarantined,
                            findings: [Finding(stage: .virus, rule: "Kordon.Test.EICAR", part: .message.xml("/Doc/Content"), detail: "d")],
                            output: nil, engine: .init(kordon: "0.1.0", clamav: "1.4.6", signatures: 4, rules: ""))
        let line = report.jsonLine()
        #expect(!line.contains("\n"))
        #expect(line.contains(#""output":null"#))
        #expect(line.contains(#""part":"xml:/Doc/Content""#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["message", "verdict", "findings", "output", "engine"])
        let decoded = try JSONDecoder().decode(Report.self, from: Data(line.utf8))
        #expect(decoded.verdict == .quarantined)
        #expect(decoded.message.route == Report.Route(from: "KZ", to: "RU"))
        #expect(decoded.findings.first?.stage == .virus)
    }

    @Test("every stage name of the report format exists")
    func stageNames() {
        #expect(Stage.allCases.map(\.rawValue) == ["virus", "unchecked", "xml", "schema", "restricted", "marking", "policy", "error"])
    }

    @Test("a state code is two ASCII letters, either case")
    func stateCodes() {
        for good in ["KZ", "ru", "By"] { #expect(Report.Route.isStateCode(good)) }
        for bad in ["", "K", "KZK", "K1", "К Z", "КЗ", "@Z", "[Z", "`z", "{z", "Kazakhstan"] {
            #expect(!Report.Route.isStateCode(bad), "\(bad)")
        }
    }
}
