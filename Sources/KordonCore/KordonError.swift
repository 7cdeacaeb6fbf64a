/// An error Kordon reports to a person: a stable `code` for scripts and a
/// message that says what went wrong and what to do.
///
/// Errors never carry message content or secrets.
public struct KordonError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A stable, dotted identifier such as `config.unreadable` or `clamav.load`.
    public var code: String
    /// What went wrong and what to do about it.
    public var message: String

    /// Creates an error.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// `message (code)`.
    public var description: String { "\(message) (\(code))" }
}
