import COpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif
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
        guard let context = EVP_CIPHER_CTX_new() else { throw Self.failure("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1,
              EVP_EncryptInit_ex(context, nil, nil, key, nonce) == 1 else {
            throw Self.failure("cannot start AES-256-GCM encryption")
        }
        try Self.authenticate(context, [Self.version] + associatedData, encrypting: true)
        var sealed = [UInt8]()
        sealed.reserveCapacity(plaintext.count + Self.overhead)
        sealed.append(Self.version)
        sealed.append(contentsOf: nonce)
        sealed.append(contentsOf: try Self.transform(context, plaintext, encrypting: true))
        var last = [UInt8](repeating: 0, count: 16)
        var lastLength: Int32 = 0
        guard EVP_EncryptFinal_ex(context, &last, &lastLength) == 1 else { throw Self.failure("AES-256-GCM encryption failed") }
        sealed.append(contentsOf: last.prefix(Int(lastLength)))
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw Self.failure("cannot read the GCM tag")
        }
        sealed.append(contentsOf: tag)
        return sealed
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
        var tag = Array(sealed.suffix(Self.tagLength))
        guard let context = EVP_CIPHER_CTX_new() else { throw Self.failure("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1,
              EVP_DecryptInit_ex(context, nil, nil, key, nonce) == 1 else {
            throw Self.failure("cannot start AES-256-GCM decryption")
        }
        try Self.authenticate(context, [Self.version] + associatedData, encrypting: false)
        var plaintext = try Self.transform(context, ciphertext, encrypting: false)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw Self.failure("cannot set the GCM tag")
        }
        var last = [UInt8](repeating: 0, count: 16)
        var lastLength: Int32 = 0
        guard EVP_DecryptFinal_ex(context, &last, &lastLength) == 1 else {
            // Wipe what was decrypted before the tag said no: it must not linger.
            for index in plaintext.indices { plaintext[index] = 0 }
            throw Self.rejected("its authentication tag does not match (changed, truncated, wrong key or wrong id)")
        }
        plaintext.append(contentsOf: last.prefix(Int(lastLength)))
        return plaintext
    }

    /// `seal` for `Data`.
    public func seal(_ plaintext: Data, associatedData: [UInt8] = []) throws -> Data {
        Data(try seal([UInt8](plaintext), associatedData: associatedData))
    }

    /// `open` for `Data`.
    public func open(_ sealed: Data, associatedData: [UInt8] = []) throws -> Data {
        Data(try open([UInt8](sealed), associatedData: associatedData))
    }

    /// Seals everything `input` yields until its end into `output`, in the format of
    /// ``seal(_:associatedData:)-([UInt8],_)``, one chunk at a time: memory stays at a
    /// chunk whatever the size. `observe` sees each plaintext chunk (for a digest).
    /// Returns the plaintext's length. On a throw `output` holds a partial box: discard it.
    public func seal(reading input: Int32, writing output: Int32, associatedData: [UInt8] = [],
                     observe: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> Int {
        let nonce = try KeyFile.randomBytes(Self.nonceLength)
        guard let context = EVP_CIPHER_CTX_new() else { throw Self.failure("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1,
              EVP_EncryptInit_ex(context, nil, nil, key, nonce) == 1 else {
            throw Self.failure("cannot start AES-256-GCM encryption")
        }
        try Self.authenticate(context, [Self.version] + associatedData, encrypting: true)
        try Self.write(output, [Self.version] + nonce)
        let plain = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk)
        let sealed = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk + 32)
        defer {
            plain.deallocate()
            sealed.deallocate()
        }
        var total = 0
        while case let count = try Self.read(input, into: plain, upTo: Self.streamChunk), count > 0 {
            observe(UnsafeRawBufferPointer(start: plain, count: count))
            var written: Int32 = 0
            guard EVP_EncryptUpdate(context, sealed, &written, plain, Int32(count)) == 1 else {
                throw Self.failure("AES-256-GCM encryption failed")
            }
            try Self.write(output, Array(UnsafeBufferPointer(start: sealed, count: Int(written))))
            total += count
        }
        var last = [UInt8](repeating: 0, count: 16)
        var lastLength: Int32 = 0
        guard EVP_EncryptFinal_ex(context, &last, &lastLength) == 1 else { throw Self.failure("AES-256-GCM encryption failed") }
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw Self.failure("cannot read the GCM tag")
        }
        try Self.write(output, Array(last.prefix(Int(lastLength))) + tag)
        return total
    }

    /// Opens a sealed box of `size` bytes read from `input`, writing the plaintext to
    /// `output` one chunk at a time; `observe` sees each plaintext chunk. GCM can only
    /// say whether the box is authentic at its end: until this returns, `output` holds
    /// bytes nobody may use, and on a throw (`crypto.aead.rejected` for any change,
    /// truncation, wrong key or wrong associated data) it must be discarded unread.
    public func open(reading input: Int32, size: Int, writing output: Int32, associatedData: [UInt8] = [],
                     observe: (UnsafeRawBufferPointer) -> Void = { _ in }) throws {
        guard size >= Self.overhead else { throw Self.rejected("it is \(size) bytes, shorter than any sealed box") }
        var header = [UInt8](repeating: 0, count: 1 + Self.nonceLength)
        guard try Self.read(input, into: &header) == header.count else { throw Self.rejected("it ends inside its header") }
        guard header[0] == Self.version else { throw Self.rejected("its format version \(header[0]) is unknown") }
        guard let context = EVP_CIPHER_CTX_new() else { throw Self.failure("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1,
              EVP_DecryptInit_ex(context, nil, nil, key, Array(header[1...])) == 1 else {
            throw Self.failure("cannot start AES-256-GCM decryption")
        }
        try Self.authenticate(context, [Self.version] + associatedData, encrypting: false)
        let sealed = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk)
        let plain = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk + 32)
        defer {
            sealed.deallocate()
            plain.deallocate()
        }
        var remaining = size - Self.overhead
        while remaining > 0 {
            let count = try Self.read(input, into: sealed, upTo: min(remaining, Self.streamChunk))
            guard count > 0 else { throw Self.rejected("it is shorter than its size said") }
            var written: Int32 = 0
            guard EVP_DecryptUpdate(context, plain, &written, sealed, Int32(count)) == 1 else {
                throw Self.failure("AES-256-GCM decryption failed")
            }
            observe(UnsafeRawBufferPointer(start: plain, count: Int(written)))
            try Self.write(output, Array(UnsafeBufferPointer(start: plain, count: Int(written))))
            remaining -= count
        }
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        guard try Self.read(input, into: &tag) == tag.count else { throw Self.rejected("it ends inside its tag") }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw Self.failure("cannot set the GCM tag")
        }
        var last = [UInt8](repeating: 0, count: 16)
        var lastLength: Int32 = 0
        guard EVP_DecryptFinal_ex(context, &last, &lastLength) == 1 else {
            throw Self.rejected("its authentication tag does not match (changed, truncated, wrong key or wrong id)")
        }
        try Self.write(output, Array(last.prefix(Int(lastLength))))
    }

    /// Bytes read and written at a time by the streaming ``seal(reading:writing:associatedData:observe:)``
    /// and ``open(reading:size:writing:associatedData:observe:)``.
    static let streamChunk = 1 << 20

    /// Reads up to `limit` bytes (fewer only at the end of the input); throws `crypto.aead.io`.
    private static func read(_ fd: Int32, into buffer: UnsafeMutablePointer<UInt8>, upTo limit: Int) throws -> Int {
        var filled = 0
        while filled < limit {
            let count = Glibc.read(fd, buffer + filled, limit - filled)
            if count < 0 {
                if errno == EINTR { continue }
                throw KordonError(code: "crypto.aead.io", message: "cannot read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    private static func read(_ fd: Int32, into bytes: inout [UInt8]) throws -> Int {
        let count = bytes.count
        return try bytes.withUnsafeMutableBufferPointer { try read(fd, into: $0.baseAddress!, upTo: count) }
    }

    /// Writes every byte; throws `crypto.aead.io`.
    private static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KordonError(code: "crypto.aead.io", message: "cannot write: \(String(cString: strerror(errno)))")
            }
            offset += count
        }
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

    private static func failure(_ what: String) -> KordonError {
        KordonError(code: "crypto.aead", message: "\(what); OpenSSL's libcrypto may be broken")
    }

    private static func rejected(_ why: String) -> KordonError {
        KordonError(code: "crypto.aead.rejected", message: "the sealed data was rejected: \(why)")
    }
}
