import ArgumentParser
import Foundation
import Kordon
import KordonCore

/// `kordon selftest`: proves, on this machine, that the engines load and that
/// known test malware is caught in every form Kordon accepts.
struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Load every engine and prove that EICAR and ClamAV's test file are caught.",
        discussion: """
        Builds harmless test malware in memory (the EICAR string; clam.exe from Debian's \
        clamav-testfiles when installed) and checks that each is found as a file, base64 \
        inside an XML element and as a MIME attachment. Exit code 0 when all are caught.
        """
    )

    @OptionGroup var engine: EngineOptions

    func run() throws {
        let pipeline = try withStartupErrors { try engine.pipeline(try engine.configuration()) }
        let engines = pipeline.engines
        print("kordon \(KordonVersion.current), libclamav \(engines.reportEngine().clamav), \(engines.clamav.signatureCount) signatures")
        print("signatures: " + engines.signatureSources.map(\.path).joined(separator: ", "))
        print("schemas:    \(engines.schemas.namespaces.count) agreed namespaces from " + engines.schemaSources.map(\.path).joined(separator: ", "))
        // Documents compile their schema on first use; the selftest compiles every one now.
        let broken = engines.schemas.compileProblems()
        for problem in broken { print("BROKEN      \(problem.message)") }

        var samples: [(String, Data)] = [("EICAR", SelftestSamples.eicar)]
        let clamExe = "/usr/share/clamav-testfiles/clam.exe"
        if let data = FileManager.default.contents(atPath: clamExe) {
            samples.append(("clam.exe", data))
        } else {
            print("note:       \(clamExe) not installed (Debian package clamav-testfiles); skipping it")
        }
        var failures = 0
        for (name, payload) in samples {
            for (form, message, expectedPart) in SelftestSamples.wrappings(of: payload, named: name) {
                let report = pipeline.filter(message, source: "selftest").report
                let hits = report.findings.filter { $0.stage == .virus && $0.part.hasPrefix(expectedPart) }
                if report.verdict == .quarantined, let hit = hits.first {
                    print("caught      \(name) \(form): \(hit.rule) at \(hit.part)")
                } else {
                    failures += 1
                    print("MISSED      \(name) \(form): verdict \(report.verdict.rawValue), findings \(report.findings.map(\.rule))")
                }
            }
        }
        if failures > 0 || !broken.isEmpty {
            print("selftest FAILED: \(failures) sample(s) not caught, \(broken.count) schema(s) do not compile")
            throw ExitCode(1)
        }
        print("selftest passed")
    }
}

/// Harmless test malware, wrapped in each message form.
enum SelftestSamples {
    /// The 68-byte EICAR anti-virus test file, built here so that no scanner
    /// flags Kordon's own binary or sources.
    static var eicar: Data {
        let parts = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS", "-TEST-FILE!$H+H*"]
        return Data(parts.joined().utf8)
    }

    /// `(form, message, part the virus must be reported at)` for each wrapping.
    static func wrappings(of payload: Data, named name: String) -> [(String, Data, String)] {
        // Padding keeps the base64 text long enough for the XML stage's
        // "long base64 text" rule in a namespace without an agreed schema.
        var padded = payload
        padded.append(Data(repeating: 0x20, count: max(0, 256 - payload.count)))
        let base64 = padded.base64EncodedString(options: [.lineLength76Characters])
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <SelfTest xmlns="urn:kordon:selftest"><Attachment><Content>\(base64)</Content></Attachment></SelfTest>
            """
        let mime = """
            From: selftest@kordon.invalid\r
            To: gateway@kordon.invalid\r
            Subject: Kordon self-test\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="kordon-selftest"\r
            \r
            --kordon-selftest\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Self-test message.\r
            --kordon-selftest\r
            Content-Type: application/octet-stream\r
            Content-Disposition: attachment; filename="\(name).bin"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(payload.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]))\r
            --kordon-selftest--\r

            """
        return [
            ("as a file", payload, "message"),
            ("as base64 inside an XML element", Data(xml.utf8), "xml:"),
            ("as a MIME attachment", Data(mime.utf8), "mime/2"),
        ]
    }
}
