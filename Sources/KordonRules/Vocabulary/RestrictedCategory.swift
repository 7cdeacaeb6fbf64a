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
