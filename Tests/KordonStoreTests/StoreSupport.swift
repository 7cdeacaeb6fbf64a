import Foundation
import KordonCore
import KordonCrypto
import KordonStore

/// A fresh directory under the system's temporary directory.
func storeTemporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// One audit log's files in a fresh directory, for the audit tests.
struct AuditLogFiles {
    let root: URL
    var file: URL { root.appendingPathComponent("audit.log") }
    var head: URL { root.appendingPathComponent("audit.log.head") }
    var keyFile: String { root.appendingPathComponent("keys/audit.key").path }

    /// A directory with nothing in it yet.
    init(_ name: String) throws { root = try storeTemporaryDirectory(name) }

    func open() throws -> AuditLog { try AuditLog(file: file, keyFile: keyFile) }
    func verify() throws -> AuditVerification { try AuditLog.verify(file: file, keyFile: keyFile) }
    func remove() { try? FileManager.default.removeItem(at: root) }

    /// The log's lines, each with its newline.
    func lines() throws -> [Data] {
        try Data(contentsOf: file).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { Data($0) + [0x0A] }
    }

    /// Replaces the log with `lines` (each with its newline).
    func write(_ lines: [Data]) throws { try lines.reduce(Data(), +).write(to: file) }
}

/// A report as the pipeline writes it for `data`: a virus for a quarantined
/// message, a masked identifier for a sanitized one.
func storeReport(_ data: Data, verdict: Verdict, rules: [String] = ["Win.Test.EICAR_HDB-1"], source: String = "inbox/0001.xml",
                 route: Report.Route? = Report.Route(from: "KZ", to: "RU")) -> Report {
    let action: FindingAction = verdict == .sanitized ? .mask : .quarantine
    let findings = rules.map {
        Finding(stage: verdict == .sanitized ? .restricted : .virus, rule: $0, part: PartPath.message.xml("/Declaration/Content"),
                action: action, detail: "found by the test", masked: verdict == .sanitized ? "0612••••0012" : nil)
    }
    let sanitized = verdict == .sanitized ? Report.Output(sha256: try! SHA256Digest.hex(data + Data("!".utf8)), size: data.count + 1) : nil
    return Report(message: .init(source: source, sha256: try! SHA256Digest.hex(data), size: data.count, format: "xml", route: route),
                  verdict: verdict, findings: findings, output: sanitized,
                  engine: .init(kordon: "test", clamav: "1.4", signatures: 1, rules: ""))
}

/// The mode bits of a file.
func storeMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
}

/// Whether `haystack` holds `needle` anywhere.
func storeContains(_ haystack: Data, _ needle: Data) -> Bool {
    haystack.range(of: needle) != nil
}

/// The code of the `KordonError` `body` throws (any other error described); `nil` when it throws nothing.
func storeErrorCode(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as KordonError {
        return error.code.rawValue
    } catch {
        return "\(error)"
    }
}

/// A store in a fresh directory, with its key file beside it.
struct QuarantineFixture {
    let root: URL
    let store: QuarantineStore
    var directory: URL { root.appendingPathComponent("quarantine") }
    var keyFile: String { root.appendingPathComponent("keys/quarantine.key").path }

    init() throws {
        root = try storeTemporaryDirectory("store")
        store = try QuarantineStore(directory: root.appendingPathComponent("quarantine"),
                                    keyFile: root.appendingPathComponent("keys/quarantine.key").path)
    }

    func reopen() throws -> QuarantineStore { try QuarantineStore(directory: directory, keyFile: keyFile) }
    func remove() { try? FileManager.default.removeItem(at: root) }
}
