import Foundation
import KordonCore
import KordonCrypto
import KordonMIME
import KordonScanning
import KordonXML

/// What the pipeline decided for one message.
public struct FilterResult: Sendable {
    /// The report, as every interface prints it.
    public var report: Report
    /// The bytes to pass on, or `nil` when the message is quarantined.
    public var output: Data?
}

/// The filter: takes one message, runs every stage, returns the verdict.
///
/// Stages run in a fixed order: intake (form detection, MIME decoding), XML
/// safety and schema validation, ClamAV on every decoded part, verdict. No byte
/// is passed on that ClamAV has not seen decoded; a part that could not be fully
/// checked quarantines the message.
public struct Pipeline: Sendable {
    /// The engines this pipeline scans with.
    public let engines: EngineSet

    /// Creates a pipeline over built engines.
    public init(engines: EngineSet) {
        self.engines = engines
    }

    /// Filters one message. Never throws: any internal problem becomes an
    /// `error` finding that quarantines the message.
    public func filter(_ data: Data, source: String, route: Report.Route? = nil) -> FilterResult {
        let form = MessageForm.detect(data)
        var info = Report.MessageInfo(source: source, sha256: SHA256Digest.hex(data), size: data.count,
                                      format: form.rawValue, route: route)
        var findings: [Finding] = []
        if data.count > engines.limits.maxMessageSize {
            findings.append(Finding(stage: .unchecked, rule: "kordon.message-size", part: .message,
                                    detail: "message is \(data.count) bytes, over the limit of \(engines.limits.maxMessageSize); not scanned"))
        } else {
            switch form {
            case .xml:
                let inspection = inspectXML(data, at: .message, attachments: [:], into: &findings)
                info.documentType = inspection.documentType
            case .mime:
                checkMIME(data, into: &findings)
            case .opaque:
                findings += engines.clamav.scan(data, part: .message, filename: nil)
            }
        }
        let verdict = Verdict.deciding(findings)
        let output: Data? = verdict == .quarantined ? nil : data
        let report = Report(message: info, verdict: verdict, findings: findings,
                            output: output.map { Report.Output(sha256: info.sha256, size: $0.count) },
                            engine: engines.reportEngine)
        return FilterResult(report: report, output: output)
    }

    /// Runs the XML stage on one document and ClamAV on the document (payloads cut
    /// out) and on every decoded payload.
    @discardableResult
    private func inspectXML(_ data: Data, at path: PartPath, attachments: [String: Data],
                            into findings: inout [Finding]) -> XMLInspection {
        let inspector = XMLInspector(schemas: engines.schemas, limits: engines.limits)
        let inspection = inspector.inspect(data, at: path, attachments: attachments)
        findings += inspection.findings
        findings += engines.clamav.scan(inspection.scanView, part: path, filename: nil)
        for payload in inspection.payloads {
            findings += engines.clamav.scan(payload.data, part: payload.path, filename: payload.filename)
        }
        return inspection
    }

    /// Scans a MIME message whole (ClamAV's own mail parser, a second view against
    /// parser differentials), then every part GMime decodes: XML parts through the
    /// XML stage, the rest through ClamAV.
    private func checkMIME(_ data: Data, into findings: inout [Finding]) {
        findings += engines.clamav.scan(data, part: .message, filename: nil)
        let parsed = MIMEMessageParser(limits: engines.limits).parse(data)
        findings += parsed.findings
        var byContentID: [String: Data] = [:]
        for leaf in parsed.leaves {
            if let id = leaf.contentID { byContentID[id] = leaf.part.data }
        }
        var resolvedByXOP: Set<String> = []
        for leaf in parsed.leaves where leaf.isXML {
            let inspection = inspectXML(leaf.part.data, at: leaf.part.path,
                                        attachments: leaf.isXOPRoot ? byContentID : [:], into: &findings)
            resolvedByXOP.formUnion(inspection.usedAttachments)
        }
        for leaf in parsed.leaves where !leaf.isXML {
            // A part an xop:Include resolved to was scanned as that element's payload.
            if let id = leaf.contentID, resolvedByXOP.contains(id) { continue }
            findings += engines.clamav.scan(leaf.part.data, part: leaf.part.path, filename: leaf.part.filename)
        }
    }
}
