import Foundation
import KordonCore

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
        /// The namespace or family, written as rule packs write them (``NamespacePattern``).
        public let namespace: NamespacePattern
        /// Local names, outermost first; the last is the payload element itself.
        public let path: [String]

        /// Parses `path` (`Name` or `Parent/Name`, at least one name, no empty step).
        public init(namespace: String, path: String) throws {
            do {
                self.namespace = try NamespacePattern.parse(namespace)
            } catch {
                throw PayloadElementError(message: error.message)
            }
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

/// Why a payload element entry was refused; the configuration reader adds file and line.
public struct PayloadElementError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what may be written instead.
    public let message: String
    /// The message.
    public var description: String { message }
}
