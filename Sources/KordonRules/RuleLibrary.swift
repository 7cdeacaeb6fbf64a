import Foundation
import KordonCore
import KordonCrypto
import Synchronization

/// Every pack found in the rules directories, loaded and checked; compiles and
/// caches one ``RuleSet`` per set of packs.
public final class RuleLibrary: Sendable {
    private let packsByID: [String: RulePack]
    private let pseudonymizer: Pseudonymizer?
    /// Every loaded pack compiled together: one Hyperscan database set, built at load.
    private let compiled: RuleSet
    /// Rule sets by their sorted, comma-joined pack ids: views of `compiled`.
    private let cache = Mutex<[String: RuleSet]>([:])

    /// Loads every `*.yaml` pack under `directories`. A pack that fails to load or
    /// compile throws a ``KordonError`` (`rules.pack.invalid`) naming the file and line.
    /// `pseudonymKey` keys the `pseudonymize` action; without one, pseudonymize masks.
    ///
    /// Two packs with the same id, or one rule id in two packs, are errors too
    /// (rule ids must start with their pack's id, so the second cannot happen
    /// without the first; the check stays as a safety net).
    /// Every pack is compiled once here, all together, so a pattern Hyperscan
    /// refuses is found at start-up, not at the first message of some route; each
    /// route's rule set is then a view of that one compiled set (see ``ruleSet(for:)``).
    ///
    /// With a `cacheDirectory` (created with mode 0700 when missing), each compiled
    /// Hyperscan database is kept there, authenticated with a key of its own
    /// (`cache.key`), and read back on the next load instead of compiled: a
    /// one-shot `kordon filter` then starts in a fraction of the time. Only files of
    /// this user, writable by no one else, whose HMAC checks out and which were made
    /// by the same Hyperscan for the same CPU are used; anything else is recompiled
    /// and replaced, so the cache never changes what is found. A cache that cannot
    /// be used at all (wrong owner, open permissions, unwritable) is no error:
    /// everything is compiled, and ``cacheReport`` says why.
    public static func load(directories: [URL], pseudonymKey: HMACSHA256?, cacheDirectory: URL? = nil) throws -> RuleLibrary {
        var packs: [String: RulePack] = [:]
        var ruleOwners: [String: (file: String, line: Int)] = [:]
        for directory in directories {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            } catch {
                throw KordonError(code: "rules.directory", message: "cannot list rule packs in \(directory.path): check the path and its permissions")
            }
            for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let pack = try PackLoader.load(directory.appendingPathComponent(name))
                if let other = packs[pack.id] {
                    throw KordonError(code: "rules.pack.invalid",
                                      message: "\(pack.source.path):\(pack.line): pack \(pack.id) is already loaded from \(other.source.path):\(other.line)")
                }
                for (id, line) in pack.ruleLines.sorted(by: { $0.value < $1.value }) {
                    if let owner = ruleOwners[id] {
                        throw KordonError(code: "rules.pack.invalid",
                                          message: "\(pack.source.path):\(line): rule id \(id) is already used in \(owner.file):\(owner.line)")
                    }
                    ruleOwners[id] = (pack.source.path, line)
                }
                packs[pack.id] = pack
            }
        }
        guard !packs.isEmpty else {
            throw KordonError(code: "rules.none", message: "no rule pack (*.yaml) found in \(directories.map(\.path).joined(separator: ", "))")
        }
        let pseudonymizer = pseudonymKey.map(Pseudonymizer.init)
        var cache: DatabaseCache?
        var unavailable: String?
        if let cacheDirectory {
            do {
                cache = try DatabaseCache(directory: cacheDirectory)
            } catch {
                unavailable = (error as? KordonError)?.message ?? "\(error)"
            }
        }
        let compiled = try RuleSet(packs: Array(packs.values), pseudonymizer: pseudonymizer, cache: cache)
        var report = cache?.report
        if let unavailable {
            report = RuleCacheReport()
            report?.unavailable = unavailable
            report?.compiled = compiled.matcher.databaseCount
        }
        return RuleLibrary(packs: packs, pseudonymizer: pseudonymizer, compiled: compiled, cacheReport: report)
    }

    private init(packs: [String: RulePack], pseudonymizer: Pseudonymizer?, compiled: RuleSet, cacheReport: RuleCacheReport?) {
        self.packsByID = packs
        self.pseudonymizer = pseudonymizer
        self.compiled = compiled
        self.cacheReport = cacheReport
    }

    /// What the compiled-database cache did during ``load(directories:pseudonymKey:cacheDirectory:)``;
    /// `nil` when it was given no cache directory.
    public let cacheReport: RuleCacheReport?

    /// Every loaded pack's rules together, whatever the route: for what must be found
    /// wherever it comes from (identifiers in names and in the strings of a report).
    public var everyPack: RuleSet { compiled }

    /// The packs, sorted by id.
    public var packs: [RulePackInfo] {
        packsByID.values.sorted { $0.id < $1.id }.map(RulePackInfo.init)
    }

    /// The pack ids a route calls for. A pack named by a two-letter state code
    /// (`KZ`, `RU`, …) applies to routes from or to that state; every other pack
    /// (`EAEU`, an operator's own) applies to every route. When either state is
    /// missing or has no pack, every pack applies.
    public func packIDs(from: String?, to: String?) -> [String] {
        let all = packsByID.keys.sorted()
        guard let from = from?.uppercased(), let to = to?.uppercased(),
              packsByID[from] != nil, packsByID[to] != nil else { return all }
        return all.filter { !Self.isStatePack($0) || $0 == from || $0 == to }
    }

    /// Whether a pack id names a state (ISO 3166 alpha-2).
    private static func isStatePack(_ id: String) -> Bool {
        id.count == 2 && id.allSatisfy { $0.isASCII && $0.isUppercase }
    }

    /// The rule set for these packs. All packs share one compiled Hyperscan database
    /// set (built at load); a route's set keeps only its packs' matches and element
    /// rules — the same results as a database of its own, without paying a compile
    /// (about half a second) for each new route. An id with no pack is a
    /// `rules.pack.unknown` error.
    public func ruleSet(for packIDs: [String]) throws -> RuleSet {
        let ids = Set(packIDs.map { $0.uppercased() }).sorted()
        let packs = try ids.map { id in
            guard let pack = packsByID[id] else {
                throw KordonError(code: "rules.pack.unknown",
                                  message: "no rule pack \(id); loaded: \(packsByID.keys.sorted().joined(separator: ", "))")
            }
            return pack
        }
        let key = ids.joined(separator: ",")
        if ids == compiled.packIDs { return compiled }
        return cache.withLock { cache in
            if let cached = cache[key] { return cached }
            let view = RuleSet(scoping: compiled, to: packs)
            cache[key] = view
            return view
        }
    }
}
