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
    /// The masked form, safe for reports: `0612••••0012`. For a marking, the
    /// marking's id (markings are not secret values).
    public var masked: String

    /// Creates a match.
    public init(ruleID: String, pack: String, kind: Kind, category: RestrictedCategory,
                range: Range<Int>, action: RuleAction, masked: String) {
        self.ruleID = ruleID
        self.pack = pack
        self.kind = kind
        self.category = category
        self.range = range
        self.action = action
        self.masked = masked
    }
}
