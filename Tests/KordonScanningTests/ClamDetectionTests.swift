import Foundation
import KordonCore
import Testing
@testable import KordonScanning

@Suite("Detecting malware", .timeLimit(.minutes(10)))
struct ClamDetectionTests {
    @Test("Debian's clamav-testfiles are all there (44 files)")
    func testFilesPresent() {
        #expect(Fixtures.clamTestFileNames.count == 44, "install the clamav-testfiles package")
    }

    @Test("each ClamAV test file is detected, packed, archived or embedded",
          arguments: Fixtures.clamTestFileNames)
    func clamTestFile(_ name: String) throws {
        let engine = try Fixtures.engine()
        let data = try Data(contentsOf: Fixtures.clamTestFiles.appendingPathComponent(name))
        let part = PartPath.message.mime([2])
        let findings = engine.scan(data, part: part, filename: name)
        let viruses = findings.stage(.virus)
        #expect(viruses.contains { $0.rule.contains("Kordon.Test.ClamAV-TestFile") }, "\(name): \(findings)")
        #expect(findings.allSatisfy { $0.part == "mime/2" && $0.action == .quarantine })
    }

    @Test("the EICAR file is a virus, named as libclamav names unsigned signatures")
    func eicar() throws {
        let findings = try Fixtures.engine().scan(Fixtures.eicar, part: .message)
        let rules = findings.stage(.virus).map(\.rule)
        #expect(rules.contains("Kordon.Test.EICAR.UNOFFICIAL"))
        // All-match mode: the body signature matches the same bytes too.
        #expect(rules.contains("Kordon.Test.EICAR.Body.UNOFFICIAL"))
        #expect(Set(rules).count == rules.count, "each name once")
        #expect(findings.allSatisfy { $0.part == "message" && $0.action == .quarantine })
    }

    @Test("EICAR followed by other bytes is still a virus")
    func eicarWithTrailingBytes() throws {
        let data = Fixtures.eicar + Data("\r\n-- trailing text of a customs form --\r\n".utf8)
            + Fixtures.pseudoRandomBytes(4096)
        let findings = try Fixtures.engine().scan(data, part: .message.appending("attachment"))
        #expect(findings.stage(.virus).contains { $0.rule.hasPrefix("Kordon.Test.EICAR.Body") })
        #expect(findings.allSatisfy { $0.part == "attachment" })
    }

    @Test("EICAR base64-decoded out of an XML element is detected at that element's path")
    func eicarAtNestedPath() throws {
        let part = PartPath.message.mime([1]).xml("/GoodsDeclaration/AttachedDocument[1]/Content")
        let findings = try Fixtures.engine().scan(Fixtures.eicar, part: part, filename: "invoice.txt")
        #expect(!findings.stage(.virus).isEmpty)
        #expect(findings.allSatisfy { $0.part == part.description })
    }

    @Test("clean bytes give no findings",
          arguments: [Fixtures.pseudoRandomBytes(64 * 1024),
                      Data("<?xml version=\"1.0\"?><GoodsDeclaration/>".utf8),
                      Data(repeating: 0, count: 10_000)])
    func cleanBytes(_ data: Data) throws {
        #expect(try Fixtures.engine().scan(data, part: .message).isEmpty)
    }

    @Test("zero bytes give no findings")
    func emptyPart() throws {
        #expect(try Fixtures.engine().scan(Data(), part: .message).isEmpty)
    }

    @Test("a sliced Data (non-zero start index) is scanned as its own bytes")
    func slicedData() throws {
        let padded = Data("padding".utf8) + Fixtures.eicar
        let slice = padded[7...]
        let findings = try Fixtures.engine().scan(slice, part: .message)
        #expect(findings.stage(.virus).map(\.rule).contains("Kordon.Test.EICAR.UNOFFICIAL"))
    }
}
