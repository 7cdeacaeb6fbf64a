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
}
