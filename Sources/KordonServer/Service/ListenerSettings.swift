import Foundation
import KordonCore
import Kordon
import NIOSSL

/// A `host:port` a listener binds: `127.0.0.1:1344`, `[::1]:8080`, `0.0.0.0:0` (port 0
/// lets the system choose). One parser for every listener, so that the same text means
/// the same socket everywhere: the host is always written, and every interface is
/// `0.0.0.0` (or `[::]`), never an empty host (ICAP read `:1344` as every interface,
/// HTTP refused it).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host or address, without IPv6 brackets.
    public var host: String
    /// The port; 0 lets the system choose.
    public var port: Int

    /// Parses `text`, the value of the configuration key `key` (`serve.icap.listen`);
    /// throws a ``KordonError`` coded `code` when it is not `host:port`.
    public init(_ text: String, key: String, code: KordonError.Code) throws {
        let problem = KordonError(code: code, message: "\(key) \(text.debugDescription) is not host:port (e.g. 127.0.0.1:1344, [::1]:1344, or 0.0.0.0:1344 for every interface)")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { throw problem }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw problem }
        self.host = host
        self.port = port
    }

    /// `host:port`, IPv6 hosts in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The server side of TLS for every listener (ICAP and HTTP alike), from the PEM files of
/// `serve.tls`: TLS 1.2 at least (NIOSSL's own minimum is TLS 1.0, which ICAP kept).
enum ServerTLS {
    /// The lowest protocol version a client may speak.
    static let minimumVersion = TLSVersion.tlsv12

    /// The configuration, or a ``KordonError`` coded `code` naming the file that failed.
    static func configuration(_ tls: ServiceConfiguration.TLS, code: KordonError.Code) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certificate)
        } catch {
            throw KordonError(code: code, message: "cannot read the TLS certificate \(tls.certificate) (\(error)); give a PEM certificate chain in serve.tls.certificate")
        }
        guard !chain.isEmpty else {
            throw KordonError(code: code, message: "\(tls.certificate) holds no PEM certificate; give a PEM certificate chain in serve.tls.certificate")
        }
        do {
            key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
        } catch {
            throw KordonError(code: code, message: "cannot read the TLS private key \(tls.key) (\(error)); give an unencrypted PEM key in serve.tls.key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        configuration.minimumTLSVersion = minimumVersion
        return configuration
    }
}
