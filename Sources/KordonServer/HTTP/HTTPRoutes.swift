import Foundation
import Hummingbird
import Kordon
import KordonCore
import Logging
import NIOCore
import Prometheus

/// The routes of the HTTP API and what each answers.
struct HTTPRoutes: Sendable {
    let service: FilterService
    let token: BearerTokenFile?
    let logger: Logger
    let budget: HTTPBodyBudget
    let limit: Int

    init(service: FilterService, token: BearerTokenFile?, logger: Logger) {
        self.service = service
        self.token = token
        self.logger = logger
        limit = service.configuration.limits.maxMessageSize
        let settings = service.configuration.service
        // As many full-size bodies as the pool can take (see HTTPBodyBudget).
        let (capacity, overflow) = limit.multipliedReportingOverflow(by: settings.effectiveThreads + settings.queue)
        budget = HTTPBodyBudget(capacity: overflow ? Int.max : capacity)
    }

    /// The router: `/healthz` open, everything else behind the token when one is set.
    func router() -> Router<HTTPRequestContext> {
        let router = Router(context: HTTPRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: service.metrics))
        router.get("healthz") { _, _ in
            HTTPReply.jsonResponse(.ok, ["status": "alive"])
        }
        let guarded = router.group()
        if let token { guarded.add(middleware: HTTPBearerAuthMiddleware(token: token)) }
        guarded.get("readyz") { _, _ in readiness() }
        guarded.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: service.metrics.exposition())))
        }
        guarded.post("v1/filter") { request, context in await filter(request, channel: context.channel) }
        return router
    }

    /// `200 {"status":"ready"}` when engines are loaded and the last reload worked;
    /// `503` with the reason otherwise.
    func readiness() -> Response {
        let (ready, problem) = service.readiness
        if ready && problem == nil { return HTTPReply.jsonResponse(.ok, ["status": "ready"]) }
        let reason = problem ?? "the engines are not loaded (a blocking reload is under way)"
        return HTTPReply.jsonResponse(.serviceUnavailable, ["status": "not-ready", "reason": reason])
    }

    /// `POST /v1/filter`: one message in the body.
    func filter(_ request: Request, channel: any Channel) async -> Response {
        let parameters: HTTPFilterParameters
        do {
            parameters = try HTTPFilterParameters(request)
        } catch {
            return HTTPReply.error(.badRequest, code: error.code.rawValue, message: error.message)
        }
        // During a blocking reload, say so before the client sends the body.
        guard service.pipeline != nil else {
            return HTTPReply.unavailable(.reloading)
        }
        var collector = HTTPBodyCollector(budget: budget)
        let message: Data
        do {
            try collector.admit(declaredLength: parameters.declaredLength, limit: limit)
            if HTTPContinue.isExpected(request, declaredLength: parameters.declaredLength) {
                try await HTTPContinue.send(on: channel)
            }
            message = try await collector.collect(request.body, declaredLength: parameters.declaredLength, limit: limit)
        } catch HTTPBodyCollector.Refusal.tooLarge(let declared) {
            return await refuseOversized(declared: declared, parameters: parameters)
        } catch HTTPBodyCollector.Refusal.busy {
            service.metrics.recordBusy()
            return HTTPReply.unavailable(ServiceUnavailable(code: .busy, description: "too many message bodies are held in memory; try again"))
        } catch {
            // The client went away or sent a broken body: nothing to scan.
            return HTTPReply.error(.badRequest, code: "http.body", message: "the request body could not be read")
        }
        // A Content-Encoding is undone first: the pipeline filters what the receiver would read.
        var decoded = message, held: [Finding] = [], reserved = 0
        switch await HTTPContentCoding.decodeOffPool(message, codings: parameters.codings, limit: limit) {
        case .unencoded: break
        case .decoded(let data, _):
            decoded = data
            // It waits for its scan beside the body it came in: the same budget bounds both.
            reserved = data.count
        case .held(let finding): held = [finding]
        }
        guard budget.reserve(reserved) else {
            service.metrics.recordBusy()
            return HTTPReply.unavailable(ServiceUnavailable(code: .busy, description: "too many message bodies are held in memory; try again"))
        }
        defer { budget.release(reserved) }
        let decision: Decision
        do {
            decision = try await service.decider.decide(IncomingMessage(data: decoded, source: parameters.source, route: parameters.route,
                                                                        transport: "http", held: held))
        } catch {
            return notDecided(error, parameters: parameters)
        }
        return answer(decision, received: message, parameters: parameters, contentType: request.headers[.contentType])
    }

    /// `413` for a body over the limit, once its decision (`unchecked`, not stored: the
    /// sender keeps the message) is audited like every other.
    private func refuseOversized(declared: Int?, parameters: HTTPFilterParameters) async -> Response {
        let message = OversizedMessage(original: .notKept(disposition: "refused with 413; the sender keeps it"),
                                       size: declared ?? limit + 1, source: parameters.source, route: parameters.route,
                                       transport: "http")
        do {
            _ = try await service.decider.decide(message)
        } catch {
            return notDecided(error, parameters: parameters)
        }
        return HTTPReply.tooLarge(limit: limit, declared: declared, source: parameters.source, route: parameters.route)
    }

    /// The answer when no decision could be made or recorded: `503` to try again, or
    /// `500` when the store or the audit log failed. Nothing is passed on.
    private func notDecided(_ error: Error, parameters: HTTPFilterParameters) -> Response {
        if let problem = error as? ServiceUnavailable { return HTTPReply.unavailable(problem) }
        logger.error("HTTP message not recorded; refused", metadata: ["error": "\(error)", "source": "\(parameters.source)"])
        let code = (error as? KordonError)?.code.rawValue ?? "service.record"
        return HTTPReply.error(.internalServerError, code: code, message: "the decision could not be recorded; the message was not passed; try again")
    }

    /// The response for a decided message. A clean message whose body came content-coded
    /// is passed as it came, with its `Content-Encoding`; a sanitized one passes decoded,
    /// without one. `Kordon-Message-Sha256` and `Kordon-Output-Sha256` name the decoded message.
    private func answer(_ decision: Decision, received: Data, parameters: HTTPFilterParameters, contentType: String?) -> Response {
        let report = decision.report
        var headers: HTTPFields = [.kordonVerdict: report.verdict.rawValue, .kordonMessageSHA256: report.message.sha256]
        if let output = report.output { headers[.kordonOutputSHA256] = output.sha256 }
        if let id = decision.quarantineID { headers[.kordonQuarantineID] = id }
        logger.debug("HTTP message filtered", metadata: ["verdict": "\(report.verdict.rawValue)", "source": "\(parameters.source)"])
        guard report.verdict != .quarantined else { return HTTPReply.report(.forbidden, report, headers: headers) }
        guard let output = decision.result.output else {
            // Not quarantined yet nothing to pass (a report-only pipeline): fail closed.
            return HTTPReply.error(.internalServerError, code: "http.no-output", message: "the pipeline passed no bytes for a \(report.verdict.rawValue) message; nothing was passed")
        }
        if parameters.wantsJSON { return HTTPReply.report(.ok, report, headers: headers) }
        headers[.contentType] = contentType ?? "application/octet-stream"
        if report.verdict == .clean, !parameters.codings.isEmpty, !parameters.contentEncoding.isEmpty,
           parameters.codings == HTTPContentCoding.codings(contentEncoding: parameters.contentEncoding, transferEncoding: []) {
            headers[.contentEncoding] = parameters.contentEncoding.joined(separator: ", ")
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: received)))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: output)))
    }
}

/// Counts the API's responses by status code: `kordon_http_responses_total{code}`.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            count(response.status.code)
            return response
        } catch let error as HTTPResponseError {
            count(error.status.code)  // the router's own 404 and 405
            throw error
        }
    }

    private func count(_ code: Int) {
        let name = MetricNameDescriptor(namespace: "kordon", subsystem: "http", metricName: "responses", unitName: "total",
                                        helpText: "HTTP API responses by status code")
        metrics.registry.makeCounter(descriptor: name, labels: [("code", String(code))]).increment()
    }
}
