import Foundation
import KordonCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Errors: typed codes and kept causes", .timeLimit(.minutes(10)))
struct KordonErrorTests {
    @Test("a code is a value: equal to the literal that spells it, and named by it in the description")
    func codes() {
        let error = KordonError(code: "spool.write", message: "cannot write /x")
        #expect(error.code == "spool.write")
        #expect(error.code != "spool.read")
        #expect(error.code.rawValue == "spool.write")
        #expect(error.description == "cannot write /x (spool.write)", "an error without a cause reads as before")
    }

    @Test("a failed system call keeps its errno as the cause, and the description names it")
    func errnoCause() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-no-such-\(UUID().uuidString)/f")
        let error = try #require(throws: KordonError.self) { try DurableFile.write(Data("x".utf8), to: missing) }
        #expect(error.code == "durable.io")
        #expect(error.cause == .errno(ENOENT))
        #expect(error.description.hasSuffix("(durable.io; errno \(ENOENT))"), "\(error.description)")
    }
}
