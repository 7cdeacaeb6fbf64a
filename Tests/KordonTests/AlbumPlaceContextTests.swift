import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// A context word in a place name can mean something else in the FTS formats: a deal
/// passport («паспорт сделки», `DealPassport`) or a vehicle passport
/// (`TransportMeansPassport`) names no person, and a 9-digit KPP inside one is no
/// identity card. The packs' `unless` phrases say so.
@Suite("Place-name context on the album's «passports»", .timeLimit(.minutes(10)))
struct AlbumPlaceContextTests {
    @Test("full documents of the deal and vehicle passport families name no person's passport",
          arguments: ["DealPassport", "ContractDealPassport", "TransportMeansPassport", "TransportMeansChassisPassport"])
    func notAPersonsPassport(root: String) throws {
        let album = try albumDirectory()
        let scratch = try temporaryDirectory("kordon-passport")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("\(root).xml")
        try albumDocument(root, ["--mode", "full"]).write(to: file)
        let result = try kordon(["scan", "--format", "ndjson", "--schemas", album.path, file.path])
        let report = try #require(try result.reports().first)
        let passportRules = report.findings.filter { $0.rule.hasSuffix(".passport") || $0.rule.hasSuffix(".identity-document") }
        #expect(passportRules.isEmpty, "\(passportRules.map { "\($0.rule) at \($0.part)" })")
    }

    @Test("a passport place still supplies the context word; a deal passport's does not")
    func personsPassportStillFound() throws {
        let scratch = try temporaryDirectory("kordon-passport")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("doc.xml")
        try Data("""
            <Doc xmlns="urn:kordon:test:passports">
              <PassportNumber>N12345678</PassportNumber>
              <DealPassportNumber>N12345678</DealPassportNumber>
            </Doc>
            """.utf8).write(to: file)
        let result = try kordon(["scan", "--format", "ndjson", "--from", "KZ", "--to", "RU", file.path])
        let report = try #require(try result.reports().first)
        let places = report.findings.filter { $0.rule == "kz.identity-document" }.map(\.part)
        #expect(places == ["xml:/Doc/PassportNumber"])
    }
}
