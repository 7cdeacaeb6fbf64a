import Foundation
import KordonCore
import KordonCrypto
import Testing

@Suite("OpenSSL digests and MACs", .timeLimit(.minutes(10)))
struct DigestTests {
    @Test("SHA-256 matches the FIPS 180-2 test vector for \"abc\"")
    func sha256() throws {
        #expect(try SHA256Digest.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a running digest gives its value once; a digest that cannot be taken is an error, never a stand-in value")
    func runningDigestFailsClosed() throws {
        let running = SHA256Digest.Running()
        Data("abc".utf8).withUnsafeBytes { running.update($0) }
        #expect(try running.finish() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // OpenSSL's context is spent: a second digest would be made up (it was all zeros).
        let error = #expect(throws: SHA256Digest.Failure.self) { try running.finish() }
        #expect(error?.code == "crypto.digest")
    }

    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func hmacRFC4231() throws {
        let mac = try HMACSHA256(key: Array("Jefe".utf8)).authenticate("what do ya want for nothing?")
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("An empty HMAC key is refused")
    func emptyKey() {
        #expect(throws: (any Error).self) { try HMACSHA256(key: []) }
    }
}

@Suite("Key files", .timeLimit(.minutes(10)))
struct KeyFileTests {
    private func temporaryPath() -> String {
        NSTemporaryDirectory() + "kordon-key-\(UUID().uuidString)/sub/pseudonym.key"
    }

    @Test("A missing key file is created once, mode 0600, and read back the same")
    func createsOnce() throws {
        let path = temporaryPath()
        let first = try KeyFile.loadOrCreate(at: path)
        let second = try KeyFile.loadOrCreate(at: path)
        #expect(first.count == KeyFile.keyLength)
        #expect(first == second)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("A key file readable by others is refused")
    func refusesOpenPermissions() throws {
        let path = temporaryPath()
        _ = try KeyFile.loadOrCreate(at: path)
        chmod(path, 0o644)
        #expect(throws: KordonError.self) { try KeyFile.loadOrCreate(at: path) }
    }

    @Test("constant-time comparison: equal only for the same bytes, whatever the lengths")
    func constantTime() {
        let token = Array("abc123".utf8)
        #expect(ConstantTime.equal(token, token))
        #expect(!ConstantTime.equal(token, Array("abc124".utf8)))
        #expect(!ConstantTime.equal(token, Array("abc12".utf8)))
        #expect(!ConstantTime.equal(token, Array("abc1234".utf8)))
        #expect(!ConstantTime.equal(token, []))
        #expect(ConstantTime.equal([UInt8](), []))
        #expect(ConstantTime.equal("f00d", "f00d"))
        #expect(!ConstantTime.equal("f00d", "f00e"))
    }
}

