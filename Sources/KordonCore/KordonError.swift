/// An error Kordon reports to a person: a stable ``Code`` for scripts, a message
/// that says what went wrong and what to do, and, when a system call or a C library
/// failed, its ``Cause``.
///
/// Errors never carry message content or secrets.
public struct KordonError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A stable, dotted identifier such as `config.unreadable` or `clamav.load`.
    ///
    /// A string literal is a code (`KordonError(code: "spool.write", …)`); the codes
    /// callers compare against are constants of the module that throws them
    /// (``quarantineUnknown``), so a typo is a compile error, not a branch never taken.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The dotted identifier.
        public let rawValue: String

        /// The code `rawValue`.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The code a literal spells.
        public init(stringLiteral value: String) { rawValue = value }

        /// The dotted identifier.
        public var description: String { rawValue }
    }

    /// What failed underneath: kept so that an operator (and a caller deciding whether
    /// to retry) sees the system's own reason, as NIO's `IOError` keeps errno and
    /// GRDB's `DatabaseError` the SQLite result code.
    public enum Cause: Sendable, Equatable, CustomStringConvertible {
        /// A system call failed with this `errno`.
        case errno(Int32)
        /// SQLite returned this (extended) result code.
        case sqlite(Int32)

        /// `errno 13`, `SQLite 13`: the message beside it says what it means.
        public var description: String {
            switch self {
            case .errno(let code): return "errno \(code)"
            case .sqlite(let code): return "SQLite \(code)"
            }
        }
    }

    /// What kind of error it is.
    public var code: Code
    /// What went wrong and what to do about it.
    public var message: String
    /// The system's or library's own reason, when there is one.
    public var cause: Cause?

    /// Creates an error.
    public init(code: Code, message: String, cause: Cause? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `message (code)`, or `message (code; cause)`.
    public var description: String {
        guard let cause else { return "\(message) (\(code))" }
        return "\(message) (\(code); \(cause))"
    }
}
