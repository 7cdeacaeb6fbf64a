/// What the restricted-data stage does with what it finds.
public enum RedactionMode: String, Sendable, CaseIterable {
    /// Sanitize and quarantine as the packs say: the filter's behaviour.
    case enforce
    /// Report every match with the action the packs would take; change nothing
    /// and pass nothing on. For compliance teams scanning archives.
    case audit
}
