// CONTRACT STUB — the public API the pipeline is written against.
// The rules helper replaces this file with the real implementation (split into
// Packs/, Validators/, Matching/, Actions/ as it sees fit), keeping these signatures.
import Foundation
import KordonCore
import KordonCrypto

/// A category of restricted information, as named in the rule packs.
public enum RestrictedCategory: String, Codable, Sendable, CaseIterable {
    /// Personal data of a natural person.
    case personalData = "personal-data"
    /// State secret.
    case stateSecret = "state-secret"
    /// Official use only (ДСП).
    case officialUse = "official-use"
    /// Commercial secret.
    case commercialSecret = "commercial-secret"
    /// Tax or bank secret.
    case taxBankSecret = "tax-bank-secret"
    /// Public registry data (organization identifiers): reported, never changed.
    case publicRegistry = "public-registry"
}

/// What a rule does with what it matched or selected.
public enum RuleAction: String, Codable, Sendable, CaseIterable {
    /// Remove the matched text, or the selected element.
    case strip
    /// Keep the shape, hide the characters: `0612••••0012`.
    case mask
    /// Replace with a keyed, stable, same-shaped pseudonym (HMAC-SHA256).
    case pseudonymize
    /// Hold the whole message.
    case quarantine
    /// Report only; nothing changes.
    case report
    /// Element rules only: the agreed format needs this field for customs purposes;
    /// detector matches inside it are reported, not changed.
    case keep
}

/// An element rule of a pack: an XPath selection with declared prefixes.
public struct ElementRule: Sendable, Hashable {
    /// Rule id, for example `eaeu.person-id`.
    public var id: String
    /// The pack it comes from (`EAEU`, `KZ`, …).
    public var pack: String
    /// The XPath 1.0 expression, for example `//casdo:PersonId`.
    public var xpath: String
    /// Prefix → namespace URIs the prefix may stand for (real EEC versions and our sample).
    public var namespaces: [String: [String]]
    /// What to do with the selected elements.
    public var action: RuleAction
    /// The category of what the element holds.
    public var category: RestrictedCategory
}

/// One validated match of a detector or a marking in one text.
public struct TextMatch: Sendable, Hashable {
    /// Whether a detector (identifier) or a classification marking matched.
    public enum Kind: String, Sendable { case detector, marking }
    /// Rule id, for example `kz.iin` or `ru.marking.dsp`.
    public var ruleID: String
    /// The pack it comes from.
    public var pack: String
    /// Detector or marking.
    public var kind: Kind
    /// The category.
    public var category: RestrictedCategory
    /// Where it is: byte offsets into the UTF-8 text that was scanned.
    public var range: Range<Int>
    /// The rule's action (`mask` for personal identifiers, `report` for
    /// organization identifiers, `quarantine` for markings, unless the pack says otherwise).
    public var action: RuleAction
    /// The masked form, safe for reports: `0612••••0012`.
    public var masked: String
}

/// One pack as loaded from `rules/XX.yaml`, for `kordon rules list`.
public struct RulePackInfo: Sendable {
    /// `KZ`, `RU`, `BY`, `KG`, `AM` or `EAEU`.
    public var id: String
    /// The pack's version.
    public var version: String
    /// Its legal basis (the laws it implements).
    public var legalBasis: String
    /// The file it was loaded from.
    public var source: URL
    /// The categories it declares.
    public var categories: [RestrictedCategory]
    /// Detector ids with category and action.
    public var detectors: [(id: String, category: RestrictedCategory, action: RuleAction)]
    /// Marking ids with their phrases.
    public var markings: [(id: String, phrases: [String])]
    /// Its element rules.
    public var elementRules: [ElementRule]
}

/// Every pack found in the rules directories, loaded and checked; compiles and
/// caches one ``RuleSet`` per set of packs.
public final class RuleLibrary: Sendable {
    /// Loads every `*.yaml` pack under `directories`. A pack that fails to load or
    /// compile throws a ``KordonError`` (`rules.pack.invalid`) naming the file and line.
    /// `pseudonymKey` keys the `pseudonymize` action; without one, pseudonymize masks.
    public static func load(directories: [URL], pseudonymKey: HMACSHA256?) throws -> RuleLibrary {
        fatalError("contract stub")
    }

    /// The packs, sorted by id.
    public var packs: [RulePackInfo] { fatalError("contract stub") }

    /// The pack ids a route calls for: `EAEU` plus the sending and receiving state's
    /// packs; every pack when either state is missing or has no pack.
    public func packIDs(from: String?, to: String?) -> [String] { fatalError("contract stub") }

    /// The compiled rule set for these packs (one Hyperscan database, compiled once and cached).
    public func ruleSet(for packIDs: [String]) throws -> RuleSet { fatalError("contract stub") }
}

/// The compiled detectors, markings and element rules of one set of packs.
///
/// Immutable and shared by every scanning thread (Hyperscan databases are
/// read-only; each scan takes its own scratch space).
public final class RuleSet: Sendable {
    /// The packs in force, `EAEU@2026.11,KZ@2026.11` — the report's `engine.rules`.
    public var description: String { fatalError("contract stub") }
    /// The element rules of every pack in the set.
    public var elementRules: [ElementRule] { fatalError("contract stub") }

    /// Every validated detector and marking match in one UTF-8 text, in order.
    /// Candidates whose validator, date or context check fails are not matches.
    public func scan(_ text: [UInt8], context: String = "") -> [TextMatch] { fatalError("contract stub") }

    /// What `action` turns `value` into: `strip` → empty, `mask` → masked shape,
    /// `pseudonymize` → keyed same-shaped token (a token never passes the
    /// identifier's checksum); `nil` for actions that change nothing.
    public func replacement(for value: [UInt8], ruleID: String?, action: RuleAction) -> [UInt8]? { fatalError("contract stub") }

    /// What to do with a match found where it cannot be edited (a text file inside an
    /// archive, a base64 attachment): the pack's `uneditable` policy for its category,
    /// `quarantine` or `report`.
    public func actionWhereUneditable(_ match: TextMatch) -> RuleAction { fatalError("contract stub") }

    /// The masked form of any value, for reports (`Ив••ов`, `0612••••0012`).
    public static func masked(_ value: [UInt8]) -> String { fatalError("contract stub") }
}
