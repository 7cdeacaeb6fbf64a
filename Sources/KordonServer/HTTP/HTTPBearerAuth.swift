import Foundation
import Hummingbird
import KordonCore

/// Refuses requests without the bearer token: `401` with `WWW-Authenticate: Bearer`.
struct HTTPBearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: BearerTokenFile

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
