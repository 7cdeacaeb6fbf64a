/// The stage of the pipeline that produced a finding.
///
/// The raw values are the `stage` strings of the report format (docs/design.md, "The report").
public enum Stage: String, Codable, Sendable, CaseIterable {
    /// ClamAV matched a signature.
    case virus
    /// A part could not be fully checked: a scanner limit, an encrypted archive,
    /// an undecodable payload, a scanner error. Fails closed: quarantines.
    case unchecked
    /// The XML is unsafe or not well-formed: DOCTYPE, limits, truncation, XInclude.
    case xml
    /// The document does not validate, or no agreed schema exists for it.
    case schema
    /// Restricted data found by a national rule pack.
    case restricted
    /// A classification marking.
    case marking
    /// An operator policy decision.
    case policy
    /// An internal error while handling the message.
    case error
}

/// What Kordon did, or asks to be done, about a finding.
public enum FindingAction: String, Codable, Sendable {
    /// The whole message is held in quarantine.
    case quarantine
    /// The matched data was removed.
    case strip
    /// The matched data was masked.
    case mask
    /// The matched data was replaced with a keyed pseudonym.
    case pseudonymize
    /// Reported only; the message is unchanged.
    case report
}

/// One thing Kordon found in one part of a message.
///
/// A finding never carries a restricted value or a secret: `detail` is written
/// for an operator and holds only what is safe to log.
public struct Finding: Codable, Sendable, Hashable {
    /// Which stage found it.
    public var stage: Stage
    /// The rule or signature name, for example `Kordon.Test.EICAR` or `xml.doctype`.
    public var rule: String
    /// The part it was found in, as rendered by ``PartPath``.
    public var part: String
    /// What was done about it.
    public var action: FindingAction
    /// A short human explanation.
    public var detail: String
    /// The category of restricted information (`personal-data`, `state-secret`, …);
    /// set on `restricted` and `marking` findings only.
    public var category: String?
    /// A masked form of what was found (`0612••••0012`): enough for an operator to
    /// recognise it, never the value itself. Set on `restricted` findings only.
    public var masked: String?

    /// Creates a finding.
    public init(stage: Stage, rule: String, part: PartPath, action: FindingAction = .quarantine, detail: String,
                category: String? = nil, masked: String? = nil) {
        self.stage = stage
        self.rule = rule
        self.part = part.description
        self.action = action
        self.detail = detail
        self.category = category
        self.masked = masked
    }
}
