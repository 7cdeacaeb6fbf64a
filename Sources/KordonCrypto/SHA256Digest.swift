import COpenSSL
import Foundation

/// SHA-256 through OpenSSL's libcrypto, the digest every report carries.
///
/// The `EVP_MD_CTX` never leaves this file: each call creates, uses and frees its own.
public enum SHA256Digest {
    /// The lowercase hex SHA-256 of `data`.
    public static func hex(_ data: Data) -> String {
        hex(bytes: bytes(data))
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

    /// The 32-byte SHA-256 of `data`. OpenSSL failing to hash memory is treated as a
    /// broken installation: the digest is then all zeros and never matches a real one.
    public static func bytes(_ data: Data) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard let context = EVP_MD_CTX_new() else { return [UInt8](repeating: 0, count: 32) }
        defer { EVP_MD_CTX_free(context) }
        let ok = data.withUnsafeBytes { raw -> Bool in
            guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { return false }
            if raw.count > 0, EVP_DigestUpdate(context, raw.baseAddress, raw.count) != 1 { return false }
            return EVP_DigestFinal_ex(context, &out, &length) == 1
        }
        guard ok, length == 32 else { return [UInt8](repeating: 0, count: 32) }
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

        /// The lowercase hex digest of everything added; all zeros (matching nothing
        /// real) if OpenSSL failed, as ``SHA256Digest/bytes(_:)`` does.
        public func finish() -> String {
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            guard ok, let context, EVP_DigestFinal_ex(context, &out, &length) == 1, length == 32 else {
                return hex(bytes: [UInt8](repeating: 0, count: 32))
            }
            ok = false
            return hex(bytes: Array(out.prefix(32)))
        }
    }
}
