import Foundation
import KordonCore
import KordonStore
import Testing

@Suite("The quarantine index keeps SQLite's code", .timeLimit(.minutes(10)))
struct QuarantineIndexCauseTests {
    @Test("an index that SQLite cannot open (a directory where the file should be) is quarantine.index with SQLITE_CANTOPEN as the cause")
    func sqliteCause() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("store/index.sqlite"), withIntermediateDirectories: true)
        let error = try #require(throws: KordonError.self) {
            try QuarantineStore(directory: root.appendingPathComponent("store"), keyFile: root.appendingPathComponent("q.key").path)
        }
        #expect(error.code == .quarantineIndex)
        guard case .sqlite(let code)? = error.cause else {
            Issue.record("no SQLite cause: \(error)")
            return
        }
        #expect(code & 0xFF == 14, "SQLITE_CANTOPEN, got \(code)")
    }
}
