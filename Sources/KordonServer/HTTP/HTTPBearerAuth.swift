import Foundation
import Hummingbird
import KordonCore

/// The bearer token clients must send, read once from `serve.http.bearerTokenFile`.
struct HTTPBearerToken: Sendable {
    private let token: [UInt8]

    /// Reads the token: the file's content without surrounding whitespace.
    /// Throws `http.token` when the file cannot be read or holds no token.
    init(file: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw KordonError(code: "http.token", message: "cannot read the bearer token file \(file) (\(error.localizedDescription)); check serve.http.bearerTokenFile")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            throw KordonError(code: "http.token", message: "the bearer token file \(file) is empty; put a token (e.g. `openssl rand -hex 32`) in it")
        }
        guard !text.contains(where: { $0.isWhitespace }) else {
            throw KordonError(code: "http.token", message: "the bearer token in \(file) contains whitespace; use one token on one line")
        }
        token = Array(text.utf8)
    }

    /// Whether an `Authorization` header value carries this token. Takes the same
    /// time whatever the first difference, so timing tells nothing about the token.
    func accepts(_ authorization: String?) -> Bool {
        guard let authorization else { return false }
        let scheme = "bearer "
        guard authorization.count > scheme.count, authorization.prefix(scheme.count).lowercased() == scheme else { return false }
        let offered = Array(authorization.utf8.dropFirst(scheme.utf8.count))
        return Self.constantTimeEqual(offered, token)
    }

    /// Compares every byte of the longer input: the time depends on lengths only.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt(bitPattern: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= UInt(x ^ y)
        }
        return difference == 0
    }
}

/// Refuses requests without the bearer token: `401` with `WWW-Authenticate: Bearer`.
struct HTTPBearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: HTTPBearerToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let authorization = request.headers[.authorization]
        guard token.accepts(authorization) else {
            // RFC 6750: no credentials → just the scheme; wrong ones → error="invalid_token".
            let challenge = authorization == nil ? #"Bearer realm="kordon""# : #"Bearer realm="kordon", error="invalid_token""#
            return HTTPReply.error(.unauthorized, code: "http.unauthorized",
                                   message: authorization == nil ? "send Authorization: Bearer TOKEN" : "the bearer token is not valid",
                                   headers: [.wwwAuthenticate: challenge])
        }
        return try await next(request, context)
    }
}
