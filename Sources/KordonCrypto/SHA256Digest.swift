import COpenSSL
import Foundation

/// SHA-256 through OpenSSL's libcrypto, the digest every report carries.
///
/// The `EVP_MD_CTX` never leaves this file: each call creates, uses and frees its own.
/// OpenSSL failing to hash is an error the caller must handle, never a made-up digest:
/// a digest keys the verdict cache and the quarantine, and one shared stand-in value
/// would make different messages the same.
public enum SHA256Digest {
    /// OpenSSL could not compute a digest (no memory, a broken installation).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// `crypto.digest`.
        public let code = "crypto.digest"
        /// What failed.
        public let message = "OpenSSL could not compute a SHA-256 digest"
        /// The code and the message.
        public var description: String { "\(code): \(message)" }
    }

    /// The lowercase hex SHA-256 of `data`.
    public static func hex(_ data: Data) throws(Failure) -> String {
        hex(bytes: try bytes(data))
    }

    /// Lowercase hex of any bytes (`String(format:)` per byte cost a tenth of an ICAP request).
    public static func hex(bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The 32-byte SHA-256 of `data`.
    public static func bytes(_ data: Data) throws(Failure) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard let context = EVP_MD_CTX_new() else { throw Failure() }
        defer { EVP_MD_CTX_free(context) }
        let ok = data.withUnsafeBytes { raw -> Bool in
            guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { return false }
            if raw.count > 0, EVP_DigestUpdate(context, raw.baseAddress, raw.count) != 1 { return false }
            return EVP_DigestFinal_ex(context, &out, &length) == 1
        }
        guard ok, length == 32 else { throw Failure() }
        return Array(out.prefix(32))
    }

    /// A SHA-256 fed piece by piece (a file too large to hold in memory). The
    /// `EVP_MD_CTX` lives and dies inside this object.
    public final class Running {
        private let context: OpaquePointer?
        private var ok: Bool

        /// A digest of nothing yet.
        public init() {
            context = EVP_MD_CTX_new()
            ok = context.map { EVP_DigestInit_ex($0, EVP_sha256(), nil) == 1 } ?? false
        }

        deinit { EVP_MD_CTX_free(context) }

        /// Adds `bytes`.
        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard ok, let context, bytes.count > 0 else { return }
            ok = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1
        }

        /// The lowercase hex digest of everything added; throws if OpenSSL failed at
        /// any step, or when called a second time.
        public func finish() throws(Failure) -> String {
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            guard ok, let context, EVP_DigestFinal_ex(context, &out, &length) == 1, length == 32 else {
                ok = false
                throw Failure()
            }
            ok = false
            return hex(bytes: Array(out.prefix(32)))
        }
    }
}
