/// The outcome for one message. Every message gets exactly one.
public enum Verdict: String, Codable, Sendable {
    /// Every part was fully checked and nothing was found: passed on byte for byte.
    case clean
    /// Restricted data was removed or masked and the result still validates:
    /// the sanitized copy is passed on, the original goes to quarantine.
    case sanitized
    /// Held with its reasons; nothing is passed on.
    case quarantined

    /// The verdict that the given findings call for: any `quarantine` action
    /// quarantines; a change (`strip`, `mask`, `pseudonymize`) sanitizes;
    /// otherwise the message is clean.
    public static func deciding(_ findings: [Finding]) -> Verdict {
        if findings.contains(where: { $0.action == .quarantine }) { return .quarantined }
        if findings.contains(where: { [.strip, .mask, .pseudonymize].contains($0.action) }) { return .sanitized }
        return .clean
    }
}
