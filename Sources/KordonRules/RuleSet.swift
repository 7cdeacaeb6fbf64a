import KordonCore

/// The compiled detectors, markings and element rules of one set of packs.
///
/// Immutable and shared by every scanning thread (Hyperscan databases are
/// read-only; each scan takes its own scratch space).
public final class RuleSet: Sendable, CustomStringConvertible {
    /// The packs in force, `EAEU@2026.12.1,KZ@2026.12.1` — the report's `engine.rules`.
    public let description: String
    /// The element rules of every pack in the set.
    public let elementRules: [ElementRule]
    /// The ids of the packs in the set, sorted (added to the contract).
    public let packIDs: [String]

    let packs: [String: RulePack]
    let detectors: [Detector]
    let markings: [Marking]
    let matcher: Matcher
    /// Every validator in use, so a pseudonym can be made to fail them all.
    let validators: [Validator]
    let pseudonymizer: Pseudonymizer?
    /// The packs whose matches count; `nil` when every compiled pack does.
    let scope: Set<String>?
    /// Which detectors' context each place name (element path, header name) supplies.
    let placeContext = PlaceContextCache()
    /// Names already scanned without a match (see ``scanName(_:)``).
    let cleanNames = CleanNameCache()

    /// Compiles `packs` (through `cache` when given). A pattern Hyperscan refuses is a
    /// `rules.pack.invalid` error naming its file and line.
    init(packs: [RulePack], pseudonymizer: Pseudonymizer?, cache: DatabaseCache? = nil) throws {
        let sorted = packs.sorted { $0.id < $1.id }
        self.description = sorted.map { "\($0.id)@\($0.version)" }.joined(separator: ",")
        self.packIDs = sorted.map(\.id)
        self.packs = Dictionary(uniqueKeysWithValues: sorted.map { ($0.id, $0) })
        self.elementRules = sorted.flatMap(\.elementRules)
        self.detectors = sorted.flatMap(\.detectors)
        self.markings = sorted.flatMap(\.markings)
        self.pseudonymizer = pseudonymizer
        var seen: Set<String> = []
        self.validators = detectors.compactMap(\.validator).filter { seen.insert($0.name).inserted }
        self.matcher = try Matcher(detectors: detectors, markings: markings, cache: cache)
        self.scope = nil
    }

    /// A view of `compiled` that keeps only the matches and element rules of `packs`
    /// (a subset of its packs). It gives the same results as compiling `packs` on their
    /// own — matches outside the scope are dropped before overlaps are resolved —
    /// without a Hyperscan compile per route; the pseudonyms it makes still avoid
    /// every validator of `compiled`.
    init(scoping compiled: RuleSet, to packs: [RulePack]) {
        let sorted = packs.sorted { $0.id < $1.id }
        self.description = sorted.map { "\($0.id)@\($0.version)" }.joined(separator: ",")
        self.packIDs = sorted.map(\.id)
        self.packs = Dictionary(uniqueKeysWithValues: sorted.map { ($0.id, $0) })
        self.elementRules = sorted.flatMap(\.elementRules)
        self.detectors = compiled.detectors
        self.markings = compiled.markings
        self.matcher = compiled.matcher
        self.validators = compiled.validators
        self.pseudonymizer = compiled.pseudonymizer
        self.scope = Set(packIDs)
    }

    /// Whether a pack's matches count in this set.
    func counts(_ pack: String) -> Bool {
        scope?.contains(pack) ?? true
    }

    /// Every validated detector and marking match in one UTF-8 text, in order,
    /// without overlaps. Candidates whose validator, date or context check fails
    /// are not matches.
    ///
    /// `context` names the place the text comes from — an element path such as
    /// `/GoodsDeclaration/DeclarantDetails/TaxpayerId`, an attribute or header name:
    /// its words count as context words, so a 10-digit INN is found inside a
    /// `TaxpayerId` element. Should Hyperscan itself fail, the result is a single
    /// `kordon.scan-failed` match over the whole text with action `quarantine`:
    /// text that was not checked never passes.
    public func scan(_ text: [UInt8], context: String = "") -> [TextMatch] {
        guard !text.isEmpty else { return [] }
        var scan = TextScan(rules: self, text: text, place: context)
        guard let matches = scan.run() else {
            return [TextMatch(ruleID: "kordon.scan-failed", pack: "kordon", kind: .marking, category: .stateSecret,
                              range: 0..<text.count, action: .quarantine, masked: "text not checked")]
        }
        return matches
    }

    /// What `action` turns `value` into: `strip` → empty, `mask` → masked shape,
    /// `pseudonymize` → keyed same-shaped token (a token never passes the
    /// identifier's checksum); `nil` for actions that change nothing.
    ///
    /// The token is made to fail every validator of the set, not only the rule's,
    /// so a pseudonym in a `PersonId` element is not later taken for an IIN or INN.
    /// Without a pseudonym key, and should OpenSSL fail, pseudonymize masks.
    public func replacement(for value: [UInt8], ruleID: String?, action: RuleAction) -> [UInt8]? {
        switch action {
        case .strip: return []
        case .mask: return Array(Masking.masked(value).utf8)
        case .pseudonymize:
            if let pseudonymizer, let token = pseudonymizer.token(for: value, avoiding: validators) { return token }
            return Array(Masking.masked(value).utf8)
        case .quarantine, .report, .keep: return nil
        }
    }

    /// What to do with a match found where it cannot be edited (a text file inside an
    /// archive, a base64 attachment): the pack's `uneditable` policy for its category,
    /// `quarantine` or `report`. A match whose own action is `quarantine` (a marking)
    /// always quarantines; a category without a policy quarantines.
    public func actionWhereUneditable(_ match: TextMatch) -> RuleAction {
        if match.action == .quarantine { return .quarantine }
        return packs[match.pack]?.uneditable[match.category] ?? .quarantine
    }

    /// The masked form of any value, for reports (`Ив••ов`, `0612••••0012`).
    public static func masked(_ value: [UInt8]) -> String {
        Masking.masked(value)
    }

    /// Whether a value already holds the mask character (masked upstream, say):
    /// masking it again would only hide more.
    public static func isMasked(_ value: [UInt8]) -> Bool {
        Masking.isMasked(value)
    }
}
