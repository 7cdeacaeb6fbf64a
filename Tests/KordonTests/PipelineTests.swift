import Foundation
import Kordon
import KordonCore
import Testing

/// The pieces of the pipeline below the CLI: form detection and configuration.
@Suite("pipeline", .timeLimit(.minutes(10)))
struct PipelineTests {
    @Test("message form is decided from the first bytes", arguments: [
        ("<?xml version=\"1.0\"?><a/>", MessageForm.xml),
        ("\u{FEFF}  <a/>", .xml),
        ("", .xml),
        ("From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\n\r\nbody", .mime),
        ("%PDF-1.7 binary", .opaque),
    ])
    func formDetection(input: String, form: MessageForm) {
        #expect(MessageForm.detect(Data(input.utf8)) == form)
    }

    @Test("UTF-16 input is XML")
    func utf16IsXML() {
        var data = Data([0xFF, 0xFE])
        data.append("<a/>".data(using: .utf16LittleEndian)!)
        #expect(MessageForm.detect(data) == .xml)
    }

    @Test("a configuration file sets limits and sources; defaults stay otherwise")
    func configurationFile() throws {
        let yaml = """
            signatures:
              system: false
              directories: [/srv/sigs]
            limits:
              maxXMLDepth: 64
              maxMessageSize: 1048576
            scan:
              jobs: 3
            serve:
              cache:
                entries: 100
            """
        let config = try ConfigurationFile.parse(yaml, file: "k.yaml", over: Configuration(resources: nil))
        #expect(config.service.cache.entries == 100)
        #expect(config.service.cache.seconds == ServiceConfiguration.Cache().seconds)
        #expect(config.limits.maxXMLDepth == 64)
        #expect(config.limits.maxMessageSize == 1_048_576)
        #expect(config.limits.maxXMLAttributes == Limits().maxXMLAttributes)
        #expect(config.signatures.system == false)
        #expect(config.signatures.directories == ["/srv/sigs"])
        #expect(config.effectiveJobs == 3)
    }

    @Test("a wrong type or unknown key names the file, line and key")
    func configurationErrors() {
        #expect(throws: KordonError.self) { try ConfigurationFile.parse("limits:\n  maxXMLDepth: deep\n", file: "k.yaml") }
        do {
            _ = try ConfigurationFile.parse("scan:\n  job: 2\n", file: "k.yaml")
            Issue.record("an unknown key was accepted")
        } catch let error as KordonError {
            #expect(error.message.contains("k.yaml:2"))
            #expect(error.message.contains("scan.job"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a message over the size limit is quarantined as unchecked, never scanned as clean")
    func oversizedMessage() throws {
        var configuration = Configuration()
        configuration.signatures.system = false
        configuration.limits.maxMessageSize = 1024
        let pipeline = Pipeline(engines: try EngineSet(configuration: configuration))
        let result = pipeline.filter(Data(repeating: 0x41, count: 4096), source: "big")
        #expect(result.report.verdict == .quarantined)
        #expect(result.output == nil)
        #expect(result.report.findings.map(\.stage) == [.unchecked])
    }
}
