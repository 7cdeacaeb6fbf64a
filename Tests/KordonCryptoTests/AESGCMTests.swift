import Foundation
import KordonCore
import KordonCrypto
import Testing

@Suite("AES-256-GCM", .timeLimit(.minutes(10)))
struct AESGCMTests {
    private let key = (0..<32).map { UInt8($0) }
    private let message = Array("GoodsDeclaration 0001: 12 crates, bananas".utf8)
    private let id = Array("20250131-0001".utf8)

    private func rejects(_ cipher: AESGCM, _ sealed: [UInt8], _ associatedData: [UInt8]) -> Bool {
        do {
            _ = try cipher.open(sealed, associatedData: associatedData)
            return false
        } catch let error as KordonError {
            return error.code == "crypto.aead.rejected"
        } catch {
            return false
        }
    }

    @Test("seal then open gives the plaintext back; the box is version ‖ nonce ‖ ciphertext ‖ tag")
    func roundTrip() throws {
        let cipher = try AESGCM(key: key)
        let sealed = try cipher.seal(message, associatedData: id)
        #expect(sealed.count == message.count + AESGCM.overhead)
        #expect(sealed[0] == AESGCM.version)
        #expect(try cipher.open(sealed, associatedData: id) == message)
        // The ciphertext is not the plaintext.
        #expect(Array(sealed[13..<(13 + message.count)]) != message)
    }

    @Test("empty and large (3 MiB) plaintexts round trip")
    func sizes() throws {
        let cipher = try AESGCM(key: key)
        #expect(try cipher.open(try cipher.seal([], associatedData: id), associatedData: id) == [])
        let large = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(try cipher.open(try cipher.seal(large), associatedData: []) == large)
    }

    @Test("every seal uses a fresh nonce: the same plaintext never seals the same way twice")
    func freshNonces() throws {
        let cipher = try AESGCM(key: key)
        let boxes = try (0..<50).map { _ in try cipher.seal(message, associatedData: id) }
        #expect(Set(boxes.map { Array($0[1..<13]) }).count == 50)
    }

    @Test("every single-bit flip anywhere in a sealed box is rejected")
    func bitFlips() throws {
        let cipher = try AESGCM(key: key)
        let sealed = try cipher.seal(Array(message.prefix(16)), associatedData: id)
        for byte in sealed.indices {
            for bit in 0..<8 {
                var changed = sealed
                changed[byte] ^= UInt8(1 << bit)
                #expect(rejects(cipher, changed, id), "flip of bit \(bit) in byte \(byte) was accepted")
            }
        }
    }

    @Test("every truncation of a sealed box is rejected, and so is an extension")
    func truncations() throws {
        let cipher = try AESGCM(key: key)
        let sealed = try cipher.seal(Array(message.prefix(16)), associatedData: id)
        for length in 0..<sealed.count {
            #expect(rejects(cipher, Array(sealed.prefix(length)), id), "truncation to \(length) bytes was accepted")
        }
        #expect(rejects(cipher, sealed + [0], id))
    }

    @Test("a wrong key is rejected")
    func wrongKey() throws {
        let sealed = try AESGCM(key: key).seal(message, associatedData: id)
        var other = key
        other[31] ^= 1
        #expect(rejects(try AESGCM(key: other), sealed, id))
    }

    @Test("different associated data is rejected (a blob moved to another id)")
    func wrongAssociatedData() throws {
        let cipher = try AESGCM(key: key)
        let sealed = try cipher.seal(message, associatedData: id)
        #expect(rejects(cipher, sealed, Array("20250131-0002".utf8)))
        #expect(rejects(cipher, sealed, []))
    }

    @Test("keys that are not 32 bytes are refused")
    func keyLength() {
        #expect(throws: KordonError.self) { try AESGCM(key: []) }
        #expect(throws: KordonError.self) { try AESGCM(key: [UInt8](repeating: 1, count: 16)) }
    }

    /// Python's `cryptography` (when installed) opens what Kordon sealed: this is
    /// standard AES-256-GCM with the version byte in front of the associated data.
    @Test("interoperates with another AES-GCM implementation",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func interoperates() throws {
        let sealed = try AESGCM(key: key).seal(message, associatedData: id)
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        let script = """
        import sys
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError:
            print("SKIP"); sys.exit(0)
        key, box, aad = (bytes.fromhex(a) for a in sys.argv[1:4])
        print(AESGCM(key).decrypt(box[1:13], box[13:], bytes([box[0]]) + aad).hex())
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, hex(key), hex(sealed), hex(id)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        if output != "SKIP" { #expect(output == hex(message)) }
    }
}
