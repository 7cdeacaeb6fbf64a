import Foundation

/// Sees what ``MIMETreeWalker`` walks, in the walker's order and with its part numbers.
///
/// Calls come in document order: a message's header block, then each entity before
/// what it holds. The paths are the walker's (`[]` is the whole message, `[2, 1]` is
/// `mime/2/1`). Entities past a limit are not walked and not visited.
protocol MIMETreeVisitor: AnyObject {
    /// The header block of a message: the top-level message (path `[]`, type
    /// `message/rfc822`) or one inside a message part (its path and type).
    func visitMessageHeaders(_ message: GMimeEntity, at path: [Int], mediaType: String)
    /// An entity (multipart, message part or leaf), before its content.
    func visitEntity(_ entity: GMimeEntity, at path: [Int])
    /// A leaf delivered to the scanner, as ``MIMEMessageParser`` returns it.
    func visitLeaf(_ entity: GMimeEntity, _ leaf: MIMELeaf)
    /// A non-blank preamble or epilogue of `multipart`, delivered as a leaf.
    func visitFace(of multipart: GMimeEntity, isPreamble: Bool, _ leaf: MIMELeaf)
    /// A transfer-encoded message part that GMime left as a leaf, decoded and parsed
    /// on its own as `document`; its header block and parts follow.
    func visitEmbeddedDocument(_ document: GMimeDocument, in leaf: GMimeEntity, at path: [Int])
}
