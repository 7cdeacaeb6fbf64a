import Foundation
import KordonCore
import KordonCrypto
import KordonRules

/// What the pipeline decided for one message.
public struct FilterResult: Sendable {
    /// The report, as every interface prints it.
    public var report: Report
    /// The bytes to pass on (the sanitized copy when sanitized), or `nil` when
    /// the message is quarantined or audited.
    public var output: Data?

    /// A result with its report and the bytes to pass on.
    public init(report: Report, output: Data?) {
        self.report = report
        self.output = output
    }
}

/// The filter: takes one message, runs every stage, returns the verdict.
///
/// Stages run in a fixed order: intake (form detection, MIME decoding), XML
/// safety and schema validation, ClamAV on every decoded part, restricted data
/// (rule packs chosen by route), verdict. No byte is passed on that ClamAV has
/// not seen decoded; a part that could not be fully checked quarantines the
/// message; a sanitized document is validated again before it is passed on.
public struct Pipeline: Sendable {
    /// The engines this pipeline scans with.
    public let engines: EngineSet
    /// Enforce the packs, or only report what they would do.
    public let mode: RedactionMode

    /// Creates a pipeline over built engines.
    public init(engines: EngineSet, mode: RedactionMode = .enforce) {
        self.engines = engines
        self.mode = mode
    }

    /// The result for a message of `size` bytes, over ``Limits/maxMessageSize``, that
    /// its caller did not read into memory (a spool file): the same `unchecked`
    /// quarantine ``filter(_:source:route:sha256:)`` gives such a message.
    public func oversized(size: Int, sha256: String, form: MessageForm, source: String, route: Report.Route?) -> FilterResult {
        let report = Report(message: .init(source: source, sha256: sha256, size: size, format: form.rawValue, route: route),
                            verdict: .quarantined, findings: [tooLarge(size)], output: nil, engine: engines.reportEngine())
        return FilterResult(report: report, output: nil)
    }

    /// OpenSSL could not hash the message (or its passed copy): it is held.
    private var digestFailed: Finding {
        Finding(stage: .error, rule: "kordon.digest", part: .message, detail: "the SHA-256 digest could not be computed; the message is held")
    }

    private func tooLarge(_ size: Int) -> Finding {
        Finding(stage: .unchecked, rule: "kordon.message-size", part: .message,
                detail: "message is \(size) bytes, over the limit of \(engines.limits.maxMessageSize); not scanned")
    }

    /// Filters one message. `route` fixes the sending and receiving state (else it
    /// is read from the document; unknown means every pack). Never throws: any
    /// internal problem becomes an `error` finding that quarantines the message.
    /// `sha256` is the message's digest when the caller has already taken it.
    public func filter(_ data: Data, source: String, route: Report.Route? = nil, sha256: String? = nil) -> FilterResult {
        let form = MessageForm.detect(data)
        let digest = sha256 ?? (try? SHA256Digest.hex(data))
        var info = Report.MessageInfo(source: source, sha256: digest ?? "", size: data.count,
                                      format: form.rawValue, route: route)
        var work = MessageWork(route: route)
        if digest == nil { work.findings.append(digestFailed) }
        var sanitized: Data?
        if data.count > engines.limits.maxMessageSize {
            work.findings.append(tooLarge(data.count))
        } else {
            switch form {
            case .xml: sanitized = filterXML(data, at: .message, attachments: [:], work: &work).sanitized
            case .mime: sanitized = filterMIME(data, work: &work)
            case .opaque: sanitized = filterOpaque(data, work: &work)
            }
            work.reportUneditableTexts(engines, mode: mode)
        }
        info.documentType = work.documentType
        info.route = work.route
        let verdict = decide(&work, sanitized: sanitized)
        let output: Data? = switch verdict {
        case .clean: data
        case .sanitized: mode == .enforce ? sanitized : nil
        case .quarantined: nil
        }
        // A clean message is passed as received: its digest is the one already taken.
        let outputDigest = output.flatMap { passed in verdict == .clean ? info.sha256 : try? SHA256Digest.hex(passed) }
        if output != nil, outputDigest == nil {
            // The passed copy could not be described: nothing is passed that the report cannot name.
            work.findings.append(digestFailed)
            let report = Report(message: info, verdict: .quarantined, findings: work.findings, output: nil,
                                engine: engines.reportEngine(rules: work.rules?.description ?? ""))
            return FilterResult(report: ReportMasking(rules: engines.rules.everyPack).masked(report), output: nil)
        }
        let report = Report(message: info, verdict: verdict, findings: work.findings,
                            output: output.map { Report.Output(sha256: outputDigest ?? "", size: $0.count) },
                            engine: engines.reportEngine(rules: work.rules?.description ?? ""))
        // Part paths and details may quote names from the message: the last step masks identifiers in them.
        return FilterResult(report: ReportMasking(rules: engines.rules.everyPack).masked(report), output: output)
    }

    /// The verdict; a message the findings call sanitized but for which no
    /// sanitized copy was made is held rather than passed unchanged.
    private func decide(_ work: inout MessageWork, sanitized: Data?) -> Verdict {
        let verdict = Verdict.deciding(work.findings)
        guard verdict == .sanitized, mode == .enforce, sanitized == nil else { return verdict }
        work.findings.append(Finding(stage: .error, rule: "restricted.no-output", part: .message,
                                     detail: "restricted data was found but no sanitized copy could be made; the message is held"))
        return .quarantined
    }
}
