import Foundation
import KordonCrypto
@testable import KordonRules

/// Shared fixtures: the shipped packs, loaded once for the whole test target.
enum Fixtures {
    /// The repository root, two directories above this file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The shipped `rules/` directory.
    static let rulesDirectory = root.appendingPathComponent("rules")
    /// A fixed pseudonym key.
    static let key = try! HMACSHA256(key: Array("kordon test key".utf8))

    private static let loaded = Result { try RuleLibrary.load(directories: [rulesDirectory], pseudonymKey: key) }

    /// Every shipped pack, with the test key.
    static func library() throws -> RuleLibrary { try loaded.get() }

    /// The rule set of every shipped pack.
    static func allRules() throws -> RuleSet {
        let library = try library()
        return try library.ruleSet(for: library.packs.map(\.id))
    }

    /// The rule ids found in `text`.
    static func ruleIDs(_ text: String, context: String = "") throws -> [String] {
        try allRules().scan(Array(text.utf8), context: context).map(\.ruleID)
    }
}

extension Array where Element == UInt8 {
    /// The bytes as text, for expectations.
    var text: String { String(decoding: self, as: UTF8.self) }
}
