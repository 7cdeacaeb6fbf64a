import COpenSSL
import Foundation
import KordonCore

#if canImport(Glibc)
import Glibc
#endif

/// Boxes sealed and opened through file descriptors, a chunk at a time: originals too
/// large to hold in memory. The boxes are the same as the in-memory calls make.
extension AESGCM {
    /// Seals everything `input` yields until its end into `output`, in the format of
    /// ``seal(_:associatedData:)-([UInt8],_)``, one chunk at a time: memory stays at a
    /// chunk whatever the size. `observe` sees each plaintext chunk (for a digest).
    /// Returns the plaintext's length. On a throw `output` holds a partial box: discard it.
    public func seal(reading input: Int32, writing output: Int32, associatedData: [UInt8] = [],
                     observe: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> Int {
        let nonce = try KeyFile.randomBytes(Self.nonceLength)
        let plain = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk)
        let sealed = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk + 32)
        defer {
            plain.deallocate()
            sealed.deallocate()
        }
        try Self.write(output, [Self.version] + nonce)
        return try withCipher(encrypting: true, nonce: nonce, associatedData: associatedData) { context in
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
            try Self.write(output, try Self.sealEnd(context))
            return total
        }
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
        let sealed = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk)
        let plain = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.streamChunk + 32)
        defer {
            sealed.deallocate()
            plain.deallocate()
        }
        try withCipher(encrypting: false, nonce: Array(header[1...]), associatedData: associatedData) { context in
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
            try Self.write(output, try Self.openEnd(context, tag: tag))
        }
    }

    /// Bytes read and written at a time by the streaming ``seal(reading:writing:associatedData:observe:)``
    /// and ``open(reading:size:writing:associatedData:observe:)``.
    static let streamChunk = 1 << 20

    /// Reads up to `limit` bytes (fewer only at the end of the input); throws `crypto.aead.io`.
    private static func read(_ fd: Int32, into buffer: UnsafeMutablePointer<UInt8>, upTo limit: Int) throws -> Int {
        do {
            return try FileDescriptorIO.read(fd, into: buffer, count: limit)
        } catch {
            throw KordonError(code: "crypto.aead.io", message: "cannot read: \(error.reason)")
        }
    }

    private static func read(_ fd: Int32, into bytes: inout [UInt8]) throws -> Int {
        let count = bytes.count
        return try bytes.withUnsafeMutableBufferPointer { try read(fd, into: $0.baseAddress!, upTo: count) }
    }

    /// Writes every byte; throws `crypto.aead.io`.
    private static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        do {
            try bytes.withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0) }
        } catch let error as FileDescriptorIO.Failure {
            throw KordonError(code: "crypto.aead.io", message: "cannot write: \(error.reason)")
        }
    }
}
