import Foundation
import GRDB
import KordonCore

/// The quarantine's SQLite index (GRDB, WAL): one row per held message with its
/// route, digests, verdict, reasons and report — never the message itself.
///
/// A `DatabasePool` is safe to share between threads (GRDB serializes writes and
/// runs reads concurrently); WAL lets `kordon quarantine` read and write while
/// `kordon serve` holds the same index open.
final class QuarantineIndex: Sendable {
    private let pool: DatabasePool

    /// Opens (creating when missing) the index at `path`, mode 0600.
    init(path: String) throws {
        // SQLite creates -wal and -shm with the database's own mode: create it 0600 first.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        var configuration = Configuration()
        // Another process (the CLI beside the service) may hold the write lock briefly.
        configuration.busyMode = .timeout(10)
        configuration.label = "kordon.quarantine"
        // A row must be on disk before the spool removes the message it stands for.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.failure("cannot open the quarantine index \(path)", error)
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE quarantine (
                    id TEXT PRIMARY KEY NOT NULL,
                    time DOUBLE NOT NULL,
                    source TEXT NOT NULL,
                    routeFrom TEXT,
                    routeTo TEXT,
                    sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    verdict TEXT NOT NULL,
                    reasons TEXT NOT NULL,
                    report TEXT NOT NULL,
                    released DOUBLE,
                    releaseNote TEXT
                );
                CREATE INDEX quarantine_time ON quarantine(time);
                """)
        }
        return migrator
    }

    /// Inserts `record` unless its id is there already; returns the stored record either way.
    func insertIfMissing(_ record: QuarantineRecord) throws -> QuarantineRecord {
        let reasons = try Self.json(record.reasons)
        let report = try Self.json(record.report)
        return try wrap("cannot write to the quarantine index") {
            try pool.write { db in
                try db.execute(sql: """
                    INSERT OR IGNORE INTO quarantine
                        (id, time, source, routeFrom, routeTo, sha256, size, verdict, reasons, report, released, releaseNote)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [record.id, record.time.timeIntervalSince1970, record.source, record.route?.from,
                                     record.route?.to, record.sha256, record.size, record.verdict.rawValue, reasons, report,
                                     record.released?.timeIntervalSince1970, record.releaseNote])
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM quarantine WHERE id = ?", arguments: [record.id]) else {
                    throw KordonError(code: "quarantine.index", message: "the record \(record.id) vanished while it was written")
                }
                return try Self.record(row)
            }
        }
    }

    /// One record, or `nil`.
    func record(id: String) throws -> QuarantineRecord? {
        try wrap("cannot read the quarantine index") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM quarantine WHERE id = ?", arguments: [id]).map(Self.record)
            }
        }
    }

    /// Records newest first, stored at or after `since` when given, before `before` when given.
    func records(since: Date? = nil, before: Date? = nil) throws -> [QuarantineRecord] {
        try wrap("cannot read the quarantine index") {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT * FROM quarantine WHERE time >= ? AND time < ? ORDER BY time DESC, id
                    """, arguments: [since?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                     before?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude]).map(Self.record)
            }
        }
    }

    /// Sets the release time and note; `false` when there is no such record.
    func markReleased(id: String, at time: Date, note: String?) throws -> Bool {
        try wrap("cannot write to the quarantine index") {
            try pool.write { db in
                try db.execute(sql: "UPDATE quarantine SET released = ?, releaseNote = ? WHERE id = ?",
                               arguments: [time.timeIntervalSince1970, note, id])
                return db.changesCount > 0
            }
        }
    }

    /// Removes a record; `false` when there was none.
    func remove(id: String) throws -> Bool {
        try wrap("cannot write to the quarantine index") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM quarantine WHERE id = ?", arguments: [id])
                return db.changesCount > 0
            }
        }
    }

    private static func record(_ row: Row) throws -> QuarantineRecord {
        let id: String = row["id"]
        guard let verdict = Verdict(rawValue: row["verdict"]) else {
            throw KordonError(code: "quarantine.index", message: "the record \(id) has an unknown verdict")
        }
        let decoder = JSONDecoder()
        let reasons = try decoder.decode([String].self, from: Data((row["reasons"] as String).utf8))
        let report = try decoder.decode(Report.self, from: Data((row["report"] as String).utf8))
        let from: String? = row["routeFrom"], to: String? = row["routeTo"]
        let released: Double? = row["released"]
        return QuarantineRecord(id: id, time: Date(timeIntervalSince1970: row["time"]), source: row["source"],
                                route: from == nil && to == nil ? nil : Report.Route(from: from, to: to),
                                sha256: row["sha256"], size: row["size"], verdict: verdict, reasons: reasons,
                                report: report, released: released.map(Date.init(timeIntervalSince1970:)),
                                releaseNote: row["releaseNote"])
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private func wrap<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KordonError {
            throw error
        } catch {
            throw Self.failure(what, error)
        }
    }

    private static func failure(_ what: String, _ error: Error) -> KordonError {
        guard let database = error as? DatabaseError else {
            return KordonError(code: .quarantineIndex, message: "\(what): \(error)")
        }
        // SQLite's message names the failure (never a record's content); its code is kept as the cause.
        return KordonError(code: .quarantineIndex, message: "\(what): \(database.message ?? "SQLite error")",
                           cause: .sqlite(database.extendedResultCode.rawValue))
    }
}
