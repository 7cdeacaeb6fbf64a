import Foundation

/// The report for one message: one JSON object, the same in every interface
/// (one line of NDJSON in batches). Its keys are listed in docs/design.md, "The report".
public struct Report: Codable, Sendable {
    /// What came in.
    public struct MessageInfo: Codable, Sendable {
        /// Where it came from: a file path, `-` for standard input.
        public var source: String
        /// SHA-256 of the bytes as received, lowercase hex.
        public var sha256: String
        /// Size in bytes as received.
        public var size: Int
        /// `xml`, `mime` or `opaque`.
        public var format: String
        /// `{namespace}LocalName` of the root element of an XML document.
        public var documentType: String?
        /// Sending and receiving state, when known.
        public var route: Route?

        /// Creates the message description.
        public init(source: String, sha256: String, size: Int, format: String,
                    documentType: String? = nil, route: Route? = nil) {
            self.source = source
            self.sha256 = sha256
            self.size = size
            self.format = format
            self.documentType = documentType
            self.route = route
        }
    }

    /// Sending and receiving state (ISO 3166 alpha-2).
    public struct Route: Codable, Sendable, Equatable {
        /// Sending state.
        public var from: String?
        /// Receiving state.
        public var to: String?
        /// Creates a route.
        public init(from: String?, to: String?) {
            self.from = from
            self.to = to
        }

        /// Whether `code` has the shape of a state code (ISO 3166 alpha-2: two ASCII
        /// letters, either case). Every interface that takes a route checks it here.
        public static func isStateCode(_ code: String) -> Bool {
            code.utf8.count == 2 && code.utf8.allSatisfy { (0x41...0x5A).contains($0 & 0xDF) }
        }
    }

    /// What was passed on.
    public struct Output: Codable, Sendable {
        /// SHA-256 of the passed bytes.
        public var sha256: String
        /// Size of the passed bytes.
        public var size: Int
        /// Creates the output description.
        public init(sha256: String, size: Int) {
            self.sha256 = sha256
            self.size = size
        }
    }

    /// Versions of what decided the verdict.
    public struct Engine: Codable, Sendable {
        /// Kordon's version.
        public var kordon: String
        /// libclamav's version.
        public var clamav: String
        /// Number of signatures loaded.
        public var signatures: Int
        /// Rule packs in force (empty until the restricted-data stage exists).
        public var rules: String
        /// Creates the engine description.
        public init(kordon: String, clamav: String, signatures: Int, rules: String) {
            self.kordon = kordon
            self.clamav = clamav
            self.signatures = signatures
            self.rules = rules
        }
    }

    /// The message.
    public var message: MessageInfo
    /// The verdict.
    public var verdict: Verdict
    /// Every finding, in pipeline order.
    public var findings: [Finding]
    /// What was passed on, or `nil` when quarantined.
    public var output: Output?
    /// The engine.
    public var engine: Engine

    /// Creates a report.
    public init(message: MessageInfo, verdict: Verdict, findings: [Finding], output: Output?, engine: Engine) {
        self.message = message
        self.verdict = verdict
        self.findings = findings
        self.output = output
        self.engine = engine
    }

    private enum CodingKeys: String, CodingKey { case message, verdict, findings, output, engine }

    /// Encodes `output` as an explicit `null` when nothing was passed on.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(message, forKey: .message)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(findings, forKey: .findings)
        if let output { try c.encode(output, forKey: .output) } else { try c.encodeNil(forKey: .output) }
        try c.encode(engine, forKey: .engine)
    }

    /// One line of JSON, keys in a stable order, no trailing newline.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain value types cannot fail; fall back to a minimal object anyway.
        guard let data = try? encoder.encode(self), let line = String(data: data, encoding: .utf8) else {
            return #"{"verdict":"quarantined","findings":[{"stage":"error","rule":"kordon.report","part":"message","action":"quarantine","detail":"report could not be encoded"}]}"#
        }
        return line
    }
}
