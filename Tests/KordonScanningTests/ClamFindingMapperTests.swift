import CClamAV
import KordonCore
import Testing
@testable import KordonScanning

@Suite("What libclamav reports, as findings", .timeLimit(.minutes(10)))
struct ClamFindingMapperTests {
    let part = PartPath.message.mime([4])

    @Test("signature names are viruses, named exactly as libclamav names them")
    func signatureName() {
        let finding = ClamFindingMapper.finding(forName: "Win.Test.EICAR_HDB-1.UNOFFICIAL", part: part)
        #expect(finding.stage == .virus)
        #expect(finding.rule == "Win.Test.EICAR_HDB-1.UNOFFICIAL")
        #expect(finding.part == "mime/4")
        #expect(finding.action == .quarantine)
    }

    @Test("'could not look inside' heuristics are unchecked, with the reason",
          arguments: [("Heuristics.Limits.Exceeded.MaxScanTime", "scan limit reached: MaxScanTime"),
                      ("Heuristics.Encrypted.PDF", "encrypted content: PDF"),
                      ("Heuristics.XZ.DicSizeLimit", "XZ dictionary")])
    func uncheckedHeuristic(_ name: String, _ reason: String) {
        let finding = ClamFindingMapper.finding(forName: name, part: part)
        #expect(finding.stage == .unchecked)
        #expect(finding.rule == name)
        #expect(finding.detail.contains(reason))
        #expect(finding.action == .quarantine)
    }

    @Test("other heuristics (a zip bomb, an exploit) are viruses")
    func maliciousHeuristic() {
        #expect(ClamFindingMapper.finding(forName: "Heuristics.Zip.OverlappingFiles", part: part).stage == .virus)
    }

    @Test("a scan error is an unchecked finding named after the error",
          arguments: [(CL_ETIMEOUT, "clamav.timeout"), (CL_EMEM, "clamav.memory"), (CL_EFORMAT, "clamav.format")])
    func scanError(_ code: cl_error_t, _ rule: String) {
        let findings = ClamFindingMapper.findings(names: [], status: ClamStatus(code), part: part)
        #expect(findings.count == 1)
        #expect(findings.first?.stage == .unchecked)
        #expect(findings.first?.rule == rule)
        #expect(findings.first?.detail.contains(ClamStatus(code).message) == true)
    }

    @Test("an error after matches keeps the matches and adds the error")
    func matchesThenError() {
        let findings = ClamFindingMapper.findings(
            names: ["Kordon.Test.EICAR.UNOFFICIAL"], status: ClamStatus(CL_ETIMEOUT), part: part)
        #expect(findings.map(\.stage) == [.virus, .unchecked])
    }

    @Test("clean is no finding; names are deduplicated in order by the collector")
    func cleanAndDedup() {
        #expect(ClamFindingMapper.findings(names: [], status: ClamStatus(CL_CLEAN), part: part).isEmpty)
        let collector = ClamMatchCollector(maxFileSize: 1 << 20)
        for name in ["B", "A", "B", "C", "A"] { collector.record(name) }
        #expect(collector.names == ["B", "A", "C"])
    }

    @Test("an unpacked file near MaxFileSize may have been cut short and is flagged; the part itself is not")
    func truncationRule() {
        let limit = 1 << 20
        let collector = ClamMatchCollector(maxFileSize: limit)
        #expect(!collector.inspect(size: limit, recursionLevel: 0), "libclamav reports the top level itself")
        #expect(!collector.inspect(size: limit - ClamMatchCollector.truncationMargin - 1, recursionLevel: 1))
        #expect(collector.names.isEmpty)
        #expect(collector.inspect(size: limit - 1, recursionLevel: 2))
        // libclamav then reports its generic callback name, which is not repeated.
        collector.record("Detected.By.Callback.Inspection")
        #expect(collector.names == [ClamMatchCollector.truncatedRule])
        let finding = ClamFindingMapper.finding(forName: ClamMatchCollector.truncatedRule, part: part)
        #expect(finding.stage == .unchecked)
        #expect(finding.detail.contains("MaxFileSize"))
    }
}
