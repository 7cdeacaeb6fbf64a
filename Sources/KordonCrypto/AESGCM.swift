import COpenSSL
import Foundation
import KordonCore

/// AES-256-GCM through OpenSSL's EVP interface: the quarantine's encryption at rest.
///
/// A sealed box is `version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The nonce is
/// fresh from OpenSSL's CSPRNG for every seal; with 96 random bits the chance of a
/// repeat stays negligible far beyond the number of messages one key will ever hold.
/// The version byte is authenticated with the associated data, so it cannot be
/// changed to steer a future format's parser.
///
/// Every call creates, uses and frees its own `EVP_CIPHER_CTX` (no context leaves
/// this file), so one value can be shared by any number of threads.
public struct AESGCM: Sendable {
    /// Bytes in a key.
    public static let keyLength = 32
    /// Bytes in a nonce.
    public static let nonceLength = 12
    /// Bytes in an authentication tag.
    public static let tagLength = 16
    /// The format version written in front of every sealed box.
    public static let version: UInt8 = 1
    /// Bytes a sealed box adds to its plaintext.
    public static let overhead = 1 + nonceLength + tagLength

    private let key: [UInt8]

    /// Creates a cipher for a 32-byte key.
    public init(key: [UInt8]) throws {
        guard key.count == Self.keyLength else {
            throw KordonError(code: "crypto.aead.key",
                              message: "an AES-256-GCM key has \(Self.keyLength) bytes, this one has \(key.count); use a key file Kordon created")
        }
        self.key = key
    }

    /// Encrypts and authenticates `plaintext`, binding it to `associatedData`
    /// (which is authenticated but not stored: `open` must be given the same).
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        let nonce = try KeyFile.randomBytes(Self.nonceLength)
        return try withCipher(encrypting: true, nonce: nonce, associatedData: associatedData) { context in
            var sealed = [UInt8]()
            sealed.reserveCapacity(plaintext.count + Self.overhead)
            sealed.append(Self.version)
            sealed.append(contentsOf: nonce)
            sealed.append(contentsOf: try Self.transform(context, plaintext, encrypting: true))
            sealed.append(contentsOf: try Self.sealEnd(context))
            return sealed
        }
    }

    /// Checks and decrypts a sealed box. Any change to any byte, a truncation, a
    /// wrong key or different associated data throws `crypto.aead.rejected`; no
    /// unauthenticated byte is ever returned.
    public func open(_ sealed: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard sealed.count >= Self.overhead else {
            throw Self.rejected("it is \(sealed.count) bytes, shorter than any sealed box")
        }
        guard sealed[0] == Self.version else { throw Self.rejected("its format version \(sealed[0]) is unknown") }
        let nonce = Array(sealed[1..<(1 + Self.nonceLength)])
        let ciphertext = Array(sealed[(1 + Self.nonceLength)..<(sealed.count - Self.tagLength)])
        return try withCipher(encrypting: false, nonce: nonce, associatedData: associatedData) { context in
            var plaintext = try Self.transform(context, ciphertext, encrypting: false)
            do {
                plaintext.append(contentsOf: try Self.openEnd(context, tag: Array(sealed.suffix(Self.tagLength))))
            } catch {
                // Wipe what was decrypted before the tag said no: it must not linger.
                for index in plaintext.indices { plaintext[index] = 0 }
                throw error
            }
            return plaintext
        }
    }

    /// `seal` for `Data`.
    public func seal(_ plaintext: Data, associatedData: [UInt8] = []) throws -> Data {
        Data(try seal([UInt8](plaintext), associatedData: associatedData))
    }

    /// `open` for `Data`.
    public func open(_ sealed: Data, associatedData: [UInt8] = []) throws -> Data {
        Data(try open([UInt8](sealed), associatedData: associatedData))
    }

    /// Runs `body` with a cipher context set up for this key and `nonce`, the version
    /// byte and `associatedData` already authenticated; the context is freed after.
    func withCipher<T>(encrypting: Bool, nonce: [UInt8], associatedData: [UInt8],
                       _ body: (OpaquePointer) throws -> T) throws -> T {
        guard let context = EVP_CIPHER_CTX_new() else { throw Self.failure("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        let started = encrypting
            ? EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1
                && EVP_EncryptInit_ex(context, nil, nil, key, nonce) == 1
            : EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1
                && EVP_DecryptInit_ex(context, nil, nil, key, nonce) == 1
        guard started else { throw Self.failure("cannot start AES-256-GCM \(encrypting ? "encryption" : "decryption")") }
        try Self.authenticate(context, [Self.version] + associatedData, encrypting: encrypting)
        return try body(context)
    }

    /// The end of a box being sealed: what the cipher still holds, then the tag.
    static func sealEnd(_ context: OpaquePointer) throws -> [UInt8] {
        var last = [UInt8](repeating: 0, count: 16)
        var lastLength: Int32 = 0
        guard EVP_EncryptFinal_ex(context, &last, &lastLength) == 1 else { throw failure("AES-256-GCM encryption failed") }
        var tag = [UInt8](repeating: 0, count: tagLength)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1 else {
            throw failure("cannot read the GCM tag")
        }
        return Array(last.prefix(Int(lastLength))) + tag
    }

    /// The end of a box being opened: checks `tag` (throws `crypto.aead.rejected` when
    /// it does not match) and returns what the cipher still holds.
    static func openEnd(_ context: OpaquePointer, tag: [UInt8]) throws -> [UInt8] {
        var tag = tag
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1 else {
            throw failure("cannot set the GCM tag")
        }
        var last = [UInt8](repeating: 0, count: 16)
        var lastLength: Int32 = 0
        guard EVP_DecryptFinal_ex(context, &last, &lastLength) == 1 else {
            throw rejected("its authentication tag does not match (changed, truncated, wrong key or wrong id)")
        }
        return Array(last.prefix(Int(lastLength)))
    }

    /// Feeds associated data (no output) to the context.
    private static func authenticate(_ context: OpaquePointer, _ data: [UInt8], encrypting: Bool) throws {
        var written: Int32 = 0
        for chunk in chunks(data.count) {
            let ok = data.withUnsafeBufferPointer { buffer in
                encrypting
                    ? EVP_EncryptUpdate(context, nil, &written, buffer.baseAddress! + chunk.lowerBound, Int32(chunk.count))
                    : EVP_DecryptUpdate(context, nil, &written, buffer.baseAddress! + chunk.lowerBound, Int32(chunk.count))
            }
            guard ok == 1 else { throw failure("cannot authenticate the associated data") }
        }
    }

    /// Encrypts or decrypts `input` in chunks that fit OpenSSL's `int` lengths.
    private static func transform(_ context: OpaquePointer, _ input: [UInt8], encrypting: Bool) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count)
        var produced = 0
        for chunk in chunks(input.count) {
            var written: Int32 = 0
            let ok = input.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { target in
                    encrypting
                        ? EVP_EncryptUpdate(context, target.baseAddress! + produced, &written,
                                            source.baseAddress! + chunk.lowerBound, Int32(chunk.count))
                        : EVP_DecryptUpdate(context, target.baseAddress! + produced, &written,
                                            source.baseAddress! + chunk.lowerBound, Int32(chunk.count))
                }
            }
            guard ok == 1 else { throw failure(encrypting ? "AES-256-GCM encryption failed" : "AES-256-GCM decryption failed") }
            produced += Int(written)
        }
        // GCM is a stream mode: every input byte yields one output byte at once.
        guard produced == input.count else { throw failure("AES-256-GCM produced \(produced) of \(input.count) bytes") }
        return output
    }

    /// Ranges of at most 1 GiB covering `0..<count` (none when `count` is 0).
    private static func chunks(_ count: Int) -> [Range<Int>] {
        let size = 1 << 30
        return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
    }

    static func failure(_ what: String) -> KordonError {
        KordonError(code: "crypto.aead", message: "\(what); OpenSSL's libcrypto may be broken")
    }

    static func rejected(_ why: String) -> KordonError {
        KordonError(code: .aeadRejected, message: "the sealed data was rejected: \(why)")
    }
}
