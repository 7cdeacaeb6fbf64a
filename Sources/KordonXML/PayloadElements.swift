import Foundation

/// Elements that carry an attachment (a file, in base64) whatever type their schema gives
/// them: the FTS album types `FreeBinaryDoc/DocumentBody/FileData` as a string
/// (`clt_ru:Text3MB`), not `xs:base64Binary`, so the schemas alone never say it is a file.
///
/// The text of a payload element is decoded and scanned as a file at any length. Text that
/// is not strict base64 there is a format violation that hides what the receiver's decoder
/// would make of it: it is reported (`xml.base64-undecodable`, `unchecked`) and what a
/// forgiving decoder reads is scanned as well, as for a typed `xs:base64Binary` element.
///
/// Each entry names a family of namespaces (`…:FreeBinaryDoc:*` for every version) and an
/// element path: the element's local name, optionally after the local names of its nearest
/// ancestors (`AppliedDocument/Base`: a `Base` whose parent is an `AppliedDocument`), for
/// names that mean a file in one place and prose in another. The element itself must be in
/// a matching namespace; its ancestors are matched by local name only.
public struct PayloadElements: Sendable, Equatable {
    /// One kind of payload element.
    public struct Element: Sendable, Equatable {
        /// The namespace family, as written (``PayloadNamespace``).
        public let namespace: PayloadNamespace
        /// Local names, outermost first; the last is the payload element itself.
        public let path: [String]

        /// Parses `path` (`Name` or `Parent/Name`, at least one name, no empty step).
        public init(namespace: String, path: String) throws {
            self.namespace = try PayloadNamespace(namespace)
            let steps = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard !steps.isEmpty, !steps.contains(where: { $0.isEmpty || $0.contains(where: \.isWhitespace) || $0.contains(":") }) else {
                throw PayloadElementError(message: "`\(path)` is not an element path: local names joined by `/`, such as `DocumentBody/FileData`")
            }
            self.path = steps
        }

        /// The path as written in the configuration.
        public var pathDescription: String { path.joined(separator: "/") }
    }

    /// Every entry, in the order given.
    public private(set) var elements: [Element]
    /// Entries by the local name of the payload element: most elements of a document are
    /// told apart with one dictionary lookup.
    private var byName: [String: [Element]]

    /// The given entries.
    public init(_ elements: [Element]) {
        self.elements = elements
        byName = Dictionary(grouping: elements, by: { $0.path[$0.path.count - 1] })
    }

    /// No payload elements.
    public static let none = PayloadElements([])

    /// These entries followed by `more`.
    public func adding(_ more: [Element]) -> PayloadElements {
        PayloadElements(elements + more)
    }

    /// Whether nothing is listed.
    public var isEmpty: Bool { elements.isEmpty }

    /// Whether `node`, whose name is `name`, is a payload element.
    func contains(_ name: QName, at node: XMLNode) -> Bool {
        guard let candidates = byName[name.localName] else { return false }
        return Self.matches(candidates, namespace: name.namespace, at: node)
    }

    /// Whether `node` is a payload element; its namespace is read only when its local name
    /// is listed (a namespace URI is a heap string, a short local name is not).
    func contains(_ node: XMLNode) -> Bool {
        guard !byName.isEmpty, let candidates = byName[node.localName] else { return false }
        return Self.matches(candidates, namespace: node.namespace, at: node)
    }

    private static func matches(_ candidates: [Element], namespace: String, at node: XMLNode) -> Bool {
        candidates.contains { entry in
            guard entry.namespace.matches(namespace) else { return false }
            var ancestor = node.parent
            for step in entry.path.dropLast().reversed() {
                guard let current = ancestor, current.localName == step else { return false }
                ancestor = current.parent
            }
            return true
        }
    }

    public static func == (lhs: PayloadElements, rhs: PayloadElements) -> Bool { lhs.elements == rhs.elements }
}

/// A namespace or a family of them, written as rule packs write them: a URI; `stem:*` for
/// the stem followed by a version (`5.22.0`: numbers joined by dots), `stem:v*` for the EEC's
/// `v0.4.14`; `stem:**` for every namespace that begins with the stem.
public struct PayloadNamespace: Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable { case exact, version, family }

    /// The pattern as written.
    public let description: String
    private let kind: Kind
    private let stem: String

    /// Parses `text`; a wildcard anywhere but at the end, or a family stem of fewer than
    /// two parts (`urn:**` would be every URN), is refused.
    public init(_ text: String) throws {
        description = text
        guard !text.isEmpty, !text.contains(where: \.isWhitespace) else {
            throw PayloadElementError(message: "`\(text)` is not a namespace: it is empty or holds white space")
        }
        if !text.contains("*") {
            (kind, stem) = (.exact, text)
        } else if text.hasSuffix(":**") {
            (kind, stem) = (.family, String(text.dropLast(2)))
            guard stem.split(separator: ":", omittingEmptySubsequences: false).count >= 3 else {
                throw PayloadElementError(message: "`\(text)` is too broad: a family `…:**` needs a stem of at least two parts, such as `urn:customs.ru:**`")
            }
        } else if text.hasSuffix(":*") || text.hasSuffix(":v*") {
            (kind, stem) = (.version, String(text.dropLast()))
        } else {
            throw PayloadElementError(message: "`\(text)` puts a wildcard where none may stand: `…:*` (any version) or `…:**` (a family) only")
        }
        guard !stem.contains("*"), stem.count > 1 else {
            throw PayloadElementError(message: "`\(text)` holds more than one wildcard or has no stem")
        }
    }

    /// Whether `uri` is one of the namespaces this stands for.
    public func matches(_ uri: String) -> Bool {
        switch kind {
        case .exact: return uri == stem
        case .family: return uri.utf8.count > stem.utf8.count && uri.hasPrefix(stem)
        case .version:
            guard uri.hasPrefix(stem) else { return false }
            var previousWasDigit = false
            for byte in uri.utf8.dropFirst(stem.utf8.count) {
                if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    previousWasDigit = true
                } else if byte == UInt8(ascii: "."), previousWasDigit {
                    previousWasDigit = false
                } else {
                    return false
                }
            }
            return previousWasDigit
        }
    }
}

/// Why a payload element entry was refused; the configuration reader adds file and line.
public struct PayloadElementError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what may be written instead.
    public let message: String
    /// The message.
    public var description: String { message }
}
