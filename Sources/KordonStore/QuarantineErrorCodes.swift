import KordonCore

extension KordonError.Code {
    /// No quarantined message has the id asked for.
    public static let quarantineUnknown: Self = "quarantine.unknown"
    /// A stored original failed its authentication: changed or damaged at rest.
    public static let quarantineTampered: Self = "quarantine.tampered"
    /// A record's stored original is gone.
    public static let quarantineMissing: Self = "quarantine.missing"
    /// The quarantine index (SQLite) failed; the cause holds SQLite's code.
    public static let quarantineIndex: Self = "quarantine.index"
}
