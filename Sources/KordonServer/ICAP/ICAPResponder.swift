import Foundation
import Kordon
import KordonCore
import KordonStore
import Logging
import NIOCore

/// Turns a complete ICAP request into its answer: OPTIONS, the verdict of the filter
/// (204, the unchanged or sanitized message, or a 403 page), or an error. Runs off
/// the event loop; nothing of a message is answered before its verdict.
struct ICAPResponder: Sendable {
    let service: FilterService
    let configuration: ServiceConfiguration.ICAP
    let logger: Logger
    /// The bound on body bytes all connections hold: a decoded body counts against it too.
    var budget: ICAPBufferBudget?

    /// Options-TTL: the ISTag in every answer tells clients of a reload sooner.
    static let optionsTTL = 300

    /// The OPTIONS answer. Kordon needs every byte to decide, so it never asks for
    /// anything to be skipped (no Transfer-Ignore): with a preview size, every type is
    /// previewed (small objects then finish in one round trip); without one, every
    /// type is sent complete.
    func options() -> ICAPAnswer {
        var headers: [(String, String)] = [
            ("Methods", "RESPMOD, REQMOD"),
            ("Service", "Kordon \(KordonVersion.current) antivirus and content-sanitization filter"),
            ("Max-Connections", "\(configuration.maxConnections)"),
            ("Options-TTL", "\(Self.optionsTTL)"),
            ("Allow", "204"),
        ]
        if configuration.previewBytes > 0 {
            headers += [("Preview", "\(configuration.previewBytes)"), ("Transfer-Preview", "*")]
        } else {
            headers.append(("Transfer-Complete", "*"))
        }
        return ICAPAnswer(status: .ok, headers: headers)
    }

    /// The answer for a request without a body: nothing to scan.
    func bodiless(_ head: ICAPRequestHead) -> ICAPAnswer {
        head.allows204 ? noContent() : unchanged(head, body: nil)
    }

    /// Filters the body and answers with its verdict. `may204`: the client allows
    /// `204` (`Allow: 204`, or the whole body came in the preview).
    ///
    /// A body with a `Content-Encoding` (or a transfer coding other than chunked) in its
    /// encapsulated header is decoded first (``HTTPContentCoding``): the decoded message
    /// is filtered; one that cannot be decoded is held. A clean one still passes as it came
    /// (`204`, or its encoded bytes); a sanitized one passes decoded, without the coding.
    func answer(_ head: ICAPRequestHead, body: ByteBuffer, route: Report.Route?, may204: Bool) async -> ICAPAnswer {
        let received = Data(body.readableBytesView)
        let codings = (head.method == .reqmod ? head.requestHeader : head.responseHeader)?.bodyCodings ?? []
        var message = received, held: [Finding] = [], reserved = 0
        switch await HTTPContentCoding.decodeOffPool(received, codings: codings, limit: service.configuration.limits.maxMessageSize) {
        case .unencoded: break
        case .decoded(let decoded, _):
            message = decoded
            // It waits for its scan beside the body it came in (each up to the size limit).
            reserved = decoded.count
        case .held(let finding): held = [finding]
        }
        guard budget?.reserve(reserved) ?? true else {
            service.metrics.recordBusy()
            return .error(.serviceUnavailable, "too many bodies are being received at once; try again", headers: [("Retry-After", "1")])
        }
        defer { budget?.release(reserved) }
        let decision: Decision
        do {
            decision = try await service.decider.decide(IncomingMessage(data: message, source: Self.source(head), route: route,
                                                                        transport: "icap", held: held))
        } catch let unavailable as ServiceUnavailable {
            return .error(.serviceUnavailable, unavailable.description, headers: [("Retry-After", "1")])
        } catch {
            logger.error("ICAP: the decision could not be recorded; the message is not passed",
                         metadata: ["error": "\((error as? KordonError)?.description ?? String(describing: type(of: error)))"])
            return .error(.serverError, "the decision could not be recorded")
        }
        let report = decision.report
        switch report.verdict {
        case .clean:
            var answer = may204 ? noContent() : unchanged(head, body: body)
            answer.headers.append(("X-Kordon-Verdict", "clean"))
            return answer
        case .sanitized:
            guard let output = decision.result.output else { return blocked(head, report, quarantineID: decision.quarantineID) }
            return sanitized(head, output: output, quarantineID: decision.quarantineID, decoded: !codings.isEmpty)
        case .quarantined:
            return blocked(head, report, quarantineID: decision.quarantineID)
        }
    }

    /// An object larger than Kordon accepts: blocked as `unchecked`, never passed
    /// unscanned. Its bytes were not kept, so it is audited but not stored; when even
    /// the audit record cannot be written it is blocked all the same.
    func oversized(_ head: ICAPRequestHead, size: Int, route: Report.Route?) async -> ICAPAnswer {
        let message = OversizedMessage(original: .notKept(disposition: "blocked"), size: size, source: Self.source(head),
                                       route: route, transport: "icap")
        do {
            let decision = try await service.decider.decide(message)
            return blocked(head, decision.report, quarantineID: nil)
        } catch let unavailable as ServiceUnavailable {
            return .error(.serviceUnavailable, unavailable.description, headers: [("Retry-After", "1")])
        } catch {
            logger.error("ICAP: an oversized object could not be audited; it is blocked anyway")
            return .error(.serverError, "the decision could not be recorded")
        }
    }

    /// `204 No Content`: pass the message as it is.
    func noContent() -> ICAPAnswer { ICAPAnswer(status: .noContent) }

    /// `200` with the encapsulated message as received (the client did not allow 204).
    func unchanged(_ head: ICAPRequestHead, body: ByteBuffer?) -> ICAPAnswer {
        var answer = ICAPAnswer(status: .ok, body: body, bodyIsRequest: head.method == .reqmod)
        if head.method == .reqmod {
            answer.requestHeader = head.requestHeader
        } else {
            answer.responseHeader = head.responseHeader
        }
        if answer.body == nil && head.hasBody { answer.body = ByteBuffer() }
        return answer
    }

    /// `200` with the sanitized body and its headers corrected. `decoded`: the body came
    /// with content codings and `output` is the decoded message, so `Content-Encoding` goes too.
    func sanitized(_ head: ICAPRequestHead, output: Data, quarantineID: String?, decoded: Bool = false) -> ICAPAnswer {
        var answer = unchanged(head, body: ByteBuffer(bytes: output))
        let fix = { (block: inout HTTPHeaderBlock) in
            block.remove(HTTPHeaderBlock.bodyDescribing.union(decoded ? ["content-encoding"] : []))
            block.add("Content-Length", "\(output.count)")
            block.add("X-Kordon-Verdict", "sanitized")
        }
        if answer.requestHeader != nil { fix(&answer.requestHeader!) }
        if answer.responseHeader != nil { fix(&answer.responseHeader!) }
        answer.headers.append(("X-Kordon-Verdict", "sanitized"))
        if let quarantineID { answer.headers.append(("X-Kordon-Quarantine-Id", quarantineID)) }
        return answer
    }

    /// `200` with an HTTP `403 Forbidden` and the explanation page, for REQMOD and
    /// RESPMOD alike (a REQMOD answer may carry a response: the request never leaves).
    func blocked(_ head: ICAPRequestHead, _ report: Report, quarantineID: String?) -> ICAPAnswer {
        let page = ByteBuffer(string: ICAPBlockPage.html(report, quarantineID: quarantineID))
        var fields: [(String, String)] = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", "\(page.readableBytes)"),
            ("Cache-Control", "no-store"),
            ("X-Kordon-Verdict", "quarantined"),
        ]
        if let quarantineID { fields.append(("X-Kordon-Quarantine-Id", quarantineID)) }
        var answer = ICAPAnswer(status: .ok, responseHeader: HTTPHeaderBlock(startLine: "HTTP/1.1 403 Forbidden", fields: fields), body: page)
        answer.headers.append(("X-Kordon-Verdict", "quarantined"))
        if let quarantineID { answer.headers.append(("X-Kordon-Quarantine-Id", quarantineID)) }
        let rules = Array(Set(report.findings.filter { $0.action == .quarantine }.map(\.rule))).sorted()
        if !rules.isEmpty { answer.headers.append(("X-Kordon-Rules", rules.prefix(20).joined(separator: ", "))) }
        // The de facto header proxies log infections by (Squid, c-icap, most ICAP scanners).
        if let virus = report.findings.first(where: { $0.stage == .virus }) {
            answer.headers.append(("X-Infection-Found", "Type=0; Resolution=2; Threat=\(virus.rule);"))
        }
        return answer
    }

    /// `icap:respmod http://host/path` for reports and the audit log: the query is
    /// dropped (it may carry identifiers) and the length bounded.
    static func source(_ head: ICAPRequestHead) -> String {
        var target = ""
        if let block = head.requestHeader {
            let words = String(decoding: block.startLine, as: UTF8.self).split(separator: " ")
            if words.count >= 2 {
                target = String(words[1].prefix { $0 != "?" && $0 != "#" })
                if target.hasPrefix("/"), let host = block.value(of: "host") { target = "http://" + host + target }
            }
        }
        let printable = String(target.unicodeScalars.filter { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }.map(Character.init))
        let name = "icap:" + head.method.rawValue.lowercased()
        return printable.isEmpty ? name : name + " " + printable.prefix(240)
    }
}
