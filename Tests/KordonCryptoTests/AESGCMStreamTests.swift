import Foundation
import KordonCore
import KordonCrypto
import Testing

/// The streaming seal and open: files larger than memory go through a chunk at a time
/// and make the same boxes as the in-memory calls.
@Suite("AES-256-GCM, streamed through files", .timeLimit(.minutes(10)))
struct AESGCMStreamTests {
    private let cipher = try! AESGCM(key: (0..<32).map { UInt8(255 - $0) })
    private let id = Array("kordon-quarantine:stream-1".utf8)

    /// A scratch file holding `bytes`, and a descriptor open on it for reading or writing.
    private final class Scratch {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-aead-\(UUID().uuidString)").path
        init(_ bytes: [UInt8] = []) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
        var bytes: [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? [] }
        func open(_ flags: Int32) -> Int32 { Foundation.open(path, flags | O_CLOEXEC) }
        deinit { unlink(path) }
    }

    /// 3.5 chunks of varied bytes, so chunk edges fall inside the data.
    private let plaintext: [UInt8] = (0..<(3 * (1 << 20) + (1 << 19))).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }

    @Test("a file sealed by streaming opens in memory; the digest seen on the way is the plaintext's")
    func streamedSealOpensInMemory() throws {
        let input = try Scratch(plaintext), output = try Scratch()
        let reader = input.open(O_RDONLY), writer = output.open(O_WRONLY | O_TRUNC)
        defer { close(reader); close(writer) }
        let digest = SHA256Digest.Running()
        let length = try cipher.seal(reading: reader, writing: writer, associatedData: id, observe: digest.update)
        #expect(length == plaintext.count)
        #expect(try digest.finish() == SHA256Digest.hex(Data(plaintext)))
        let sealed = output.bytes
        #expect(sealed.count == plaintext.count + AESGCM.overhead)
        #expect(try cipher.open(sealed, associatedData: id) == plaintext)
    }

    @Test("a box sealed in memory opens by streaming; a changed byte, a truncation or another id is rejected")
    func streamedOpen() throws {
        let sealed = try cipher.seal(plaintext, associatedData: id)
        func open(_ box: [UInt8], size: Int? = nil, id: [UInt8]) throws -> [UInt8] {
            let input = try Scratch(box), output = try Scratch()
            let reader = input.open(O_RDONLY), writer = output.open(O_WRONLY | O_TRUNC)
            defer { close(reader); close(writer) }
            try cipher.open(reading: reader, size: size ?? box.count, writing: writer, associatedData: id)
            return output.bytes
        }
        #expect(try open(sealed, id: id) == plaintext)
        var changed = sealed
        changed[2 * (1 << 20) + 7] ^= 0x01
        let spoiled: [(String, () throws -> [UInt8])] = [
            ("a changed byte", { try open(changed, id: id) }),
            ("the last byte cut", { try open(Array(sealed.dropLast(1)), id: id) }),
            ("a size one longer than the file", { try open(sealed, size: sealed.count + 1, id: id) }),
            ("another id", { try open(sealed, id: Array("kordon-quarantine:other".utf8)) }),
        ]
        for (what, attempt) in spoiled {
            let error = #expect(throws: KordonError.self, "\(what)") { try attempt() }
            #expect(error?.code == "crypto.aead.rejected", "\(what)")
        }
    }

    @Test("an empty input makes a box of just the overhead, and it opens to nothing")
    func empty() throws {
        let input = try Scratch(), output = try Scratch()
        let reader = input.open(O_RDONLY), writer = output.open(O_WRONLY | O_TRUNC)
        defer { close(reader); close(writer) }
        #expect(try cipher.seal(reading: reader, writing: writer, associatedData: id) == 0)
        #expect(output.bytes.count == AESGCM.overhead)
        #expect(try cipher.open(output.bytes, associatedData: id) == [])
    }
}
