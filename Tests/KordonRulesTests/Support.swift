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

/// Pack files in a fresh temporary directory, removed when the value goes away.
final class TemporaryPacks {
    let url: URL

    init(_ files: [String: String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files {
            try Data(text.utf8).write(to: url.appendingPathComponent(name))
        }
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the directory, as errors print it.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// A small valid pack `XX`: one detector, one marking, one element rule.
    static let minimal = """
        pack: XX
        version: 1.0.0
        title: Test pack
        legalBasis: [A test law]
        categories: [personal-data, state-secret]
        uneditable:
          personal-data: quarantine
          state-secret: quarantine
        detectors:
          - id: xx.iin
            category: personal-data
            pattern: '[0-9]{12}'
            validator: kz.iin
        markings:
          - id: xx.marking.secret
            category: state-secret
            phrases: [Секретно]
        namespaces:
          t: [urn:test]
        elementRules:
          - id: xx.element
            select: //t:Id
            action: mask
            category: personal-data

        """
}
