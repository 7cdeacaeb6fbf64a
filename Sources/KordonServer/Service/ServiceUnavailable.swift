/// Why the service did not take a message: the transport answers "try again"
/// (ICAP and HTTP `503` with `Retry-After`; the spool leaves the file for later).
public struct ServiceUnavailable: Error, Sendable, CustomStringConvertible, Equatable {
    /// Why, as a value a transport can switch on.
    public enum Code: String, Sendable {
        /// Every thread is busy and the queue is full.
        case busy
        /// The service is shutting down.
        case stopping
        /// A blocking reload is under way.
        case reloading
    }

    /// Why the message was not taken.
    public var code: Code
    /// A human explanation.
    public var description: String

    /// A refusal with its explanation.
    public init(code: Code, description: String) {
        self.code = code
        self.description = description
    }

    static let busy = ServiceUnavailable(code: .busy, description: "every scanning thread is busy and the queue is full; try again")
    static let stopping = ServiceUnavailable(code: .stopping, description: "the service is shutting down")
    static let reloading = ServiceUnavailable(code: .reloading, description: "the engines are being reloaded; try again")
}
