import Foundation
import KordonTestSupport
import KordonCore
import Testing

/// The restricted-data fixtures (written by `fixtures/make-restricted.py`).
let restrictedFixtures = repositoryRoot.appendingPathComponent("fixtures/restricted")

/// Every valid personal identifier the restricted fixtures carry, in the spellings
/// they use: none may appear in a sanitized output or in any report.
let personalValues = [
    "791028302728", "061211600012",          // KZ IIN
    "500100732259",                          // RU INN of a person
    "112-233-445 95", "11223344595",         // RU SNILS
    "45 08 123456", "123456",                // RU passport series and number
    "041234567",                             // KZ identity card number (element rule)
    "3140583A004PB7",                        // BY personal number
    "21405198300123",                        // KG PIN
    "1234560789",                            // AM public service number
]

/// Organization identifiers: public registry data, reported and never changed.
let organizationValues = ["940140000385", "990140004654", "7707083893", "1027700132195", "304500116000157", "200988541"]

/// Runs `kordon` with a configuration whose pseudonym key lives in a fresh directory,
/// so that tests never touch the user's own key.
struct RestrictedRun {
    let directory: URL
    let config: URL

    init(key: [UInt8]? = nil) throws {
        directory = try temporaryDirectory("restricted")
        let keyFile = directory.appendingPathComponent("pseudonym.key")
        if let key {
            FileManager.default.createFile(atPath: keyFile.path, contents: Data(key), attributes: [.posixPermissions: 0o600])
        }
        config = directory.appendingPathComponent("kordon.yaml")
        try "rules:\n  pseudonymKeyFile: \(keyFile.path)\n".write(to: config, atomically: true, encoding: .utf8)
    }

    /// `kordon <command> --config <ours> <arguments>`.
    func callAsFunction(_ command: [String], _ arguments: [String] = [], stdin: Data? = nil) throws -> CommandResult {
        try kordon(command + ["--config", config.path] + arguments, stdin: stdin)
    }

    /// `kordon filter` on one fixture; the output and the decoded report.
    func filter(_ fixture: String, _ arguments: [String] = []) throws -> (CommandResult, Report) {
        let reportFile = directory.appendingPathComponent("report-\(UUID().uuidString).json")
        let result = try self(["filter"], ["--report", reportFile.path] + arguments + [restrictedFixtures.appendingPathComponent(fixture).path])
        let reportData = try Data(contentsOf: reportFile)
        return (result, try JSONDecoder().decode(Report.self, from: reportData))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Whether `haystack` holds `needle` as bytes.
func contains(_ haystack: Data, _ needle: String) -> Bool {
    haystack.range(of: Data(needle.utf8)) != nil
}

/// `xmllint --schema` on `data`: nil when it validates, else xmllint's complaint.
func xmllintProblem(_ data: Data, schema: String = "GoodsDeclaration.xsd") throws -> String? {
    let directory = try temporaryDirectory("xmllint")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("doc.xml")
    try data.write(to: file)
    let xsd = repositoryRoot.appendingPathComponent("schemas/eec-sample/\(schema)").path
    let result = try run(URL(fileURLWithPath: "/usr/bin/xmllint"), ["--noout", "--nonet", "--schema", xsd, file.path])
    return result.status == 0 ? nil : result.stderr
}
