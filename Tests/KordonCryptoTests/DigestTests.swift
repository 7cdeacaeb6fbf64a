import Foundation
import KordonCrypto
import Testing

@Suite("OpenSSL digests and MACs")
struct DigestTests {
    @Test("SHA-256 matches the FIPS 180-2 test vector for \"abc\"")
    func sha256() {
        #expect(SHA256Digest.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
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
