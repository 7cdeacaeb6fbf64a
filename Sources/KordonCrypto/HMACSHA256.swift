import COpenSSL
import KordonCore
import Foundation

/// HMAC-SHA256 through OpenSSL's libcrypto: keyed pseudonyms of restricted values
/// and (later) the audit log's chain.
///
/// The key is copied into this value; OpenSSL's `HMAC` one-shot call owns no state
/// beyond the call, so a value can be shared by any number of threads.
public struct HMACSHA256: Sendable {
    private let key: [UInt8]

    /// Creates an authenticator for `key`. An empty key is refused: a pseudonym
    /// keyed with nothing can be recomputed by anyone.
    public init(key: [UInt8]) throws {
        guard !key.isEmpty else {
            throw KordonError(code: "crypto.hmac.key", message: "the HMAC key is empty")
        }
        self.key = key
    }

    /// The 32-byte MAC of `message`. OpenSSL failing on memory is treated as a
    /// broken installation and reported as a thrown error, never as a weak MAC.
    public func authenticate(_ message: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                     messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                     &out, &length)
            }
        }
        guard result != nil, length == 32 else {
            throw KordonError(code: "crypto.hmac", message: "OpenSSL could not compute HMAC-SHA256")
        }
        return Array(out.prefix(32))
    }

    /// The MAC of `text`'s UTF-8 bytes.
    public func authenticate(_ text: String) throws -> [UInt8] {
        try authenticate(Array(text.utf8))
    }
}
