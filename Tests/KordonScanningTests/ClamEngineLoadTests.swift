import Foundation
import KordonCore
import Testing
@testable import KordonScanning

@Suite("Loading a ClamAV engine", .timeLimit(.minutes(10)))
struct ClamEngineLoadTests {
    @Test("Kordon's signatures load, and the engine says what it loaded")
    func loadsShippedSignatures() throws {
        let engine = try Fixtures.engine()
        // kordon-test.hdb has 2 signatures, kordon-test.ndb 2.
        #expect(engine.signatureCount >= 4)
        #expect(engine.databases.map(\.url) == [Fixtures.signatures])
        #expect(engine.databaseVersion == nil, "only unofficial databases are loaded")
    }

    @Test("the library version is libclamav's, e.g. 1.4.6")
    func libraryVersion() {
        let version = ClamEngine.libraryVersion
        #expect(version.split(separator: ".").count >= 2)
        #expect(version.first?.isNumber == true)
    }

    @Test("a database path that does not exist is an error naming it")
    func missingDatabase() throws {
        let missing = Fixtures.root.appendingPathComponent("no-such-signatures-\(UUID().uuidString)")
        let error = try #require(throws: KordonError.self) {
            try ClamEngine.load(ClamEngineOptions(databases: [Fixtures.signatures, missing]))
        }
        #expect(error.code == "clamav.database.missing")
        #expect(error.message.contains(missing.path))
    }

    @Test("a directory with no signatures is an error: it would call everything clean")
    func emptyDatabaseDirectory() throws {
        let empty = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let error = try #require(throws: KordonError.self) {
            try ClamEngine.load(ClamEngineOptions(databases: [empty]))
        }
        #expect(error.code.rawValue.hasPrefix("clamav.database"))
        #expect(error.message.contains(empty.path))
    }

    @Test("no database at all is an error")
    func noDatabases() throws {
        let error = try #require(throws: KordonError.self) {
            try ClamEngine.load(ClamEngineOptions(databases: []))
        }
        #expect(error.code == "clamav.database.none")
    }

    @Test("a malformed database is an error naming it")
    func malformedDatabase() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("broken.hdb")
        try Data("not-a-hash:not-a-size\n".utf8).write(to: database)
        let error = try #require(throws: KordonError.self) {
            try ClamEngine.load(ClamEngineOptions(databases: [database]))
        }
        #expect(error.code == "clamav.database.load")
        #expect(error.message.contains(database.path))
    }

    @Test("a zero or negative limit is refused: libclamav would read 0 as unlimited")
    func nonPositiveLimit() throws {
        var limits = Limits()
        limits.clamMaxFileSize = 0
        let error = try #require(throws: KordonError.self) { try Fixtures.engine(limits: limits) }
        #expect(error.code == "clamav.limits")
        #expect(error.message.contains("clamMaxFileSize"))
    }

    @Test("engines load concurrently (cl_init runs once) and each can scan")
    func concurrentLoads() async throws {
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let engine = try ClamEngine.load(ClamEngineOptions(databases: [Fixtures.signatures]))
                    return engine.scan(Fixtures.eicar, part: .message).stage(.virus).count
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts.count == 4)
        #expect(counts.allSatisfy { $0 > 0 })
    }
}
