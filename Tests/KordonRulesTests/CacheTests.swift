import Foundation
import KordonCrypto
import Synchronization
import Testing
@testable import KordonRules

/// The compiled-database cache: a second load reads what the first compiled and
/// finds exactly the same; a file that is damaged, tampered with, planted or
/// exposed is never used, only recompiled and replaced.
@Suite(.timeLimit(.minutes(10))) struct CacheTests {
    /// Hits every database of the shipped packs: primary (IIN, plain marking),
    /// contextual (INN, passport), lookalike (Latin H in ИHH), exotic (fullwidth marking).
    static let sample = """
        ИHH 7707083893
        Декларант ИП Сейткали, ИИН 061211600012, паспорт серия 45 06 № 123456 выдан.
        ＣＥＫＰＥＴＨＯ. Для служебного пользования.
        """

    @Test func secondLoadReadsWhatTheFirstCompiledAndFindsTheSame() throws {
        let cache = CacheFolder()
        let first = try RuleLibrary.load(directories: [Fixtures.rulesDirectory], pseudonymKey: Fixtures.key, cacheDirectory: cache.url)
        #expect(first.cacheReport == CacheFolder.report(compiled: 4, written: 4))
        #expect(try cache.databases().count == 4)
        #expect(try cache.mode(of: nil) == 0o700)
        #expect(try cache.mode(of: "cache.key") == 0o600)
        #expect(try cache.databases().allSatisfy { try cache.mode(of: $0) == 0o600 })

        let second = try RuleLibrary.load(directories: [Fixtures.rulesDirectory], pseudonymKey: Fixtures.key, cacheDirectory: cache.url)
        #expect(second.cacheReport == CacheFolder.report(loaded: 4))

        let expected = try Fixtures.allRules().scan(Array(Self.sample.utf8))
        #expect(Set(expected.map(\.ruleID)).isSuperset(of: ["kz.iin", "ru.inn-organization", "ru.passport",
                                                            "eaeu.marking.secret", "eaeu.marking.official-use"]))
        for library in [first, second] {
            let rules = try library.ruleSet(for: library.packs.map(\.id))
            #expect(rules.scan(Array(Self.sample.utf8)) == expected)
            let route = try library.ruleSet(for: library.packIDs(from: "KZ", to: "RU"))
            #expect(route.scan(Array(Self.sample.utf8)) == (try Fixtures.library().ruleSet(for: ["EAEU", "KZ", "RU"]).scan(Array(Self.sample.utf8))))
        }
    }

    @Test func withoutACacheDirectoryNothingIsWrittenOrReported() throws {
        let packs = try TemporaryPacks(["xx.yaml": TemporaryPacks.minimal])
        let library = try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil)
        #expect(library.cacheReport == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: packs.url.path) == ["xx.yaml"])
    }

    /// Ways a cache file can go bad; every one is refused, recompiled and replaced.
    enum Damage: String, CaseIterable, Sendable {
        case flippedDatabaseByte, truncated, emptied, flippedMAC, flippedKey, swappedFiles
        case writableByOthers, symbolicLink, ownedByAnotherUser
    }

    @Test(arguments: Damage.allCases)
    func damagedFileIsRecompiledAndReplaced(_ damage: Damage) throws {
        if damage == .ownedByAnotherUser && geteuid() != 0 { return }   // only root can give a file away
        let packs = try TemporaryPacks(["xx.yaml": TemporaryPacks.minimal])
        let cache = CacheFolder()
        let expected = try CacheFolder.load(packs, cache).scan(CacheFolder.text)
        let files = try cache.databases()
        #expect(files.count == 2)
        let originals = try files.map { try [UInt8](Data(contentsOf: cache.url.appendingPathComponent($0))) }
        for (index, file) in files.enumerated() {
            let path = cache.url.appendingPathComponent(file).path
            var bytes = originals[index]
            switch damage {
            case .flippedDatabaseByte: bytes[bytes.count / 2] ^= 0x01
            case .truncated: bytes.removeLast(bytes.count / 3)
            case .emptied: bytes = []
            case .flippedMAC: bytes[bytes.count - 1] ^= 0x80
            case .flippedKey: bytes[20] ^= 0x01
            case .swappedFiles:
                // A whole, authentic file under another database's name: the HMAC covers the key.
                bytes = originals[(index + 1) % files.count]
            case .writableByOthers, .symbolicLink, .ownedByAnotherUser: break
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            switch damage {
            case .writableByOthers: #expect(chmod(path, 0o666) == 0)
            case .ownedByAnotherUser: #expect(chown(path, 65534, 65534) == 0)
            case .symbolicLink:
                // An authentic file, but reached through a link: links are never followed.
                let target = cache.url.appendingPathComponent("\(file).elsewhere").path
                #expect(rename(path, target) == 0)
                #expect(symlink(target, path) == 0)
            default: break
            }
        }
        let again = try CacheFolder.load(packs, cache)
        #expect(again.cacheReport?.refused == 2)
        #expect(again.cacheReport?.compiled == 2)
        #expect(again.cacheReport?.loaded == 0)
        #expect(again.cacheReport?.written == 2)
        #expect(again.cacheReport?.problems.count == 2)
        #expect(again.scan(CacheFolder.text) == expected)
        // Replaced by good files: the next load reads them.
        let third = try CacheFolder.load(packs, cache)
        #expect(third.cacheReport == CacheFolder.report(loaded: 2))
        #expect(third.scan(CacheFolder.text) == expected)
        #expect(try cache.databases().allSatisfy { try cache.mode(of: $0) == 0o600 })
    }

    /// The attack the HMAC stops: a database that matches nothing, planted under the
    /// real key with this user's ownership and 0600, would switch detection off.
    @Test func plantedDatabaseThatMatchesNothingIsRefused() throws {
        let packs = try TemporaryPacks(["xx.yaml": TemporaryPacks.minimal])
        let cache = CacheFolder()
        let expected = try CacheFolder.load(packs, cache).scan(CacheFolder.text)
        #expect(expected.map(\.ruleID) == ["xx.marking.secret", "xx.iin"])
        let blind = try #require(try HyperscanDatabase(patterns: [HyperscanPattern(expression: "\\x00never\\x00", id: 0)]).serialized())

        // Sealed with a key of the attacker's own: refused, detection intact.
        let attacker = CacheFolder()
        try cache.plant(blind, sealedBy: DatabaseCache(directory: attacker.url))
        let defended = try CacheFolder.load(packs, cache)
        #expect(defended.cacheReport?.refused == 2)
        #expect(defended.scan(CacheFolder.text) == expected)

        // Sealed with the real key — what the secret keeps out of reach — it would be used.
        try cache.plant(blind, sealedBy: DatabaseCache(directory: cache.url))
        let blinded = try CacheFolder.load(packs, cache)
        #expect(blinded.cacheReport == CacheFolder.report(loaded: 2))
        #expect(blinded.scan(CacheFolder.text) == [])
    }

    @Test func changedPatternHasAnotherKeyAndIsCompiled() throws {
        let cache = CacheFolder()
        let before = try TemporaryPacks(["xx.yaml": TemporaryPacks.minimal])
        #expect(try CacheFolder.load(before, cache).scan(CacheFolder.text).map(\.ruleID) == ["xx.marking.secret", "xx.iin"])
        let after = try TemporaryPacks(["xx.yaml": TemporaryPacks.minimal.replacingOccurrences(of: "[Секретно]", with: "[Тайно]")])
        let changed = try CacheFolder.load(after, cache)
        #expect(changed.cacheReport == CacheFolder.report(compiled: 2, written: 2))
        #expect(changed.scan(CacheFolder.text).map(\.ruleID) == ["xx.iin"])
        #expect(changed.scan(Array("Тайно".utf8)).map(\.ruleID) == ["xx.marking.secret"])
        #expect(try cache.databases().count == 4)
    }

    @Test func keyCoversEveryPartOfEveryPattern() throws {
        let folder = CacheFolder()
        let cache = try DatabaseCache(directory: folder.url)
        let base = [HyperscanPattern(expression: "ab", id: 0), HyperscanPattern(expression: "c", id: 1)]
        var variants: [[HyperscanPattern]] = [base, Array(base.reversed()), [base[0]],
                                              [HyperscanPattern(expression: "a", id: 0), HyperscanPattern(expression: "bc", id: 1)]]
        variants.append([HyperscanPattern(expression: "ab", id: 0, reportsStart: true), base[1]])
        variants.append([HyperscanPattern(expression: "ab", id: 0, singleMatch: true), base[1]])
        variants.append([HyperscanPattern(expression: "ab", id: 2), base[1]])
        let keys = try variants.map { try #require(cache.key(for: $0)) }
        #expect(Set(keys).count == variants.count)
        #expect(cache.key(for: base) == keys[0])
        #expect(keys.allSatisfy { $0.count == 32 })
    }

    @Test func concurrentFirstLoadsLeaveAWholeCache() throws {
        let packs = try TemporaryPacks(["xx.yaml": TemporaryPacks.minimal])
        let cache = CacheFolder()
        let results = Mutex<[Result<[TextMatch], any Error>]>([])
        let directory = packs.url
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let result = Result {
                try RuleLibrary.load(directories: [directory], pseudonymKey: nil, cacheDirectory: cache.url).scan(CacheFolder.text)
            }
            results.withLock { $0.append(result) }
        }
        let matches = try results.withLock { $0 }.map { try $0.get() }
        #expect(matches.count == 4)
        #expect(Set(matches).count == 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: cache.url.path)
        #expect(names.filter { $0.hasSuffix(".tmp") } == [])
        #expect(try cache.databases().count == 2)
        let after = try CacheFolder.load(packs, cache)
        #expect(after.cacheReport == CacheFolder.report(loaded: 2))
        #expect(after.scan(CacheFolder.text) == matches[0])
    }

    /// Ways the directory or its key can be unsafe; the cache is then not used at all.
    enum UnsafeFolder: String, CaseIterable, Sendable {
        case writableByOthers, symbolicLink, keyReadableByOthers, keyIsALink, ownedByAnotherUser
    }

    @Test(arguments: UnsafeFolder.allCases)
    func unsafeFolderIsNotUsedAndEverythingIsCompiled(_ unsafe: UnsafeFolder) throws {
        if unsafe == .ownedByAnotherUser && geteuid() != 0 { return }
        let packs = try TemporaryPacks(["xx.yaml": TemporaryPacks.minimal])
        let cache = CacheFolder()
        let expected = try CacheFolder.load(packs, cache).scan(CacheFolder.text)
        var used = cache.url
        let key = cache.url.appendingPathComponent("cache.key").path
        switch unsafe {
        case .writableByOthers: #expect(chmod(cache.url.path, 0o777) == 0)
        case .ownedByAnotherUser: #expect(chown(cache.url.path, 65534, 65534) == 0)
        case .keyReadableByOthers: #expect(chmod(key, 0o644) == 0)
        case .symbolicLink:
            used = cache.url.deletingLastPathComponent().appendingPathComponent("kordon-cache-link-\(UUID().uuidString)")
            try FileManager.default.createSymbolicLink(at: used, withDestinationURL: cache.url)
        case .keyIsALink:
            let elsewhere = cache.url.deletingLastPathComponent().appendingPathComponent("kordon-key-\(UUID().uuidString)")
            #expect(rename(key, elsewhere.path) == 0)
            #expect(symlink(elsewhere.path, key) == 0)
        }
        defer { if used != cache.url { try? FileManager.default.removeItem(at: used) } }
        let library = try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil, cacheDirectory: used)
        let report = try #require(library.cacheReport)
        #expect(report.unavailable != nil)
        #expect(report.compiled == 2 && report.loaded == 0 && report.written == 0)
        #expect(report.description.hasPrefix("rule cache not used: "))
        #expect(library.scan(CacheFolder.text) == expected)
    }
}

/// A cache directory path in the temporary folder (created by the load), removed afterwards.
private final class CacheFolder: Sendable {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-cache-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A marking and a valid IIN for the minimal pack.
    static let text = Array("Секретно: ИИН 061211600012".utf8)

    static func load(_ packs: TemporaryPacks, _ cache: CacheFolder) throws -> RuleLibrary {
        try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil, cacheDirectory: cache.url)
    }

    static func report(loaded: Int = 0, compiled: Int = 0, written: Int = 0) -> RuleCacheReport {
        var report = RuleCacheReport()
        report.loaded = loaded
        report.compiled = compiled
        report.written = written
        return report
    }

    /// The database files, sorted.
    func databases() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".hsdb") }.sorted()
    }

    /// The permission bits of `name`, or of the directory itself.
    func mode(of name: String?) throws -> Int {
        let path = name.map { url.appendingPathComponent($0).path } ?? url.path
        return try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// Replaces every database file with `database` sealed by `sealer` under the file's own key.
    func plant(_ database: [UInt8], sealedBy sealer: DatabaseCache) throws {
        for name in try databases() {
            let hex = Array(name.dropLast(".hsdb".count))
            let key = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(hex[$0..<$0 + 2]), radix: 16)! }
            let file = try #require(sealer.sealed(database, key: key))
            try Data(file).write(to: url.appendingPathComponent(name))
            #expect(chmod(url.appendingPathComponent(name).path, 0o600) == 0)
        }
    }
}

extension RuleLibrary {
    /// Every pack's rules over `text`.
    fileprivate func scan(_ text: [UInt8]) -> [TextMatch] {
        (try? ruleSet(for: packs.map(\.id)).scan(text)) ?? []
    }
}
