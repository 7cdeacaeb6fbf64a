/// The stable address of a part inside a message, used in every report.
///
/// A path is a list of components joined with `/`: `mime/2`,
/// `mime/2/xml:/GoodsDeclaration/AttachedDocument[1]/Content`. The message itself
/// is the empty path, rendered as `message`.
public struct PartPath: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The components, outermost first.
    public private(set) var components: [String]

    /// The whole message.
    public static let message = PartPath(components: [])

    /// Creates a path from its components.
    public init(components: [String]) {
        self.components = components
    }

    /// The path of a MIME part, numbered from 1 like IMAP part specifiers:
    /// `mime/2`, and `mime/2/1` for the first child of a nested multipart.
    public func mime(_ numbers: [Int]) -> PartPath {
        PartPath(components: components + ["mime"] + numbers.map(String.init))
    }

    /// The path of an element inside an XML part: `xml:/Root/Child[2]/Content`.
    public func xml(_ elementPath: String) -> PartPath {
        PartPath(components: components + ["xml:" + elementPath])
    }

    /// Appends one raw component.
    public func appending(_ component: String) -> PartPath {
        PartPath(components: components + [component])
    }

    /// `message` for the whole message, otherwise the components joined with `/`.
    public var description: String {
        components.isEmpty ? "message" : components.joined(separator: "/")
    }

    /// Orders paths by their rendering, so reports list parts predictably.
    public static func < (lhs: PartPath, rhs: PartPath) -> Bool {
        lhs.description < rhs.description
    }
}
