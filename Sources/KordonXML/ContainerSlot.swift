import Foundation
import KordonCore

/// An element of an agreed format whose child elements are whole documents of their
/// own: the body of a container or envelope, declared `xs:any processContents="skip"`
/// (or `lax`, or `strict` with any namespace), so that the outer schema does not check
/// what it carries. Kordon validates every carried document against its own
/// namespace's schema (see ``ContainerDocuments``).
///
/// Written `{namespace}LocalName`; the namespace is a URI or a ``NamespacePattern``, as in
/// the rule packs: `…:*` any version, so that one entry covers every edition of an album
/// (`{urn:customs.ru:Information:ExchangeDocuments:ED_Container:*}DocBody`), `…:v*` the
/// EEC's versions, `…:**` every namespace below a stem.
public struct ContainerSlot: Sendable, Hashable, CustomStringConvertible {
    /// The namespace as written.
    public let namespacePattern: String
    /// The local name of the slot element.
    public let localName: String
    /// The namespace, parsed; `nil` for no namespace (`{}Body`).
    private let pattern: NamespacePattern?

    /// Reads `{namespace}LocalName`; `nil` when `text` is not of that form (a local
    /// name must be an XML name without `*`, `:` or braces; a wildcard only where a
    /// ``NamespacePattern`` allows one).
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{"), let close = trimmed.firstIndex(of: "}") else { return nil }
        let namespace = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
        let local = String(trimmed[trimmed.index(after: close)...])
        guard !namespace.contains("{"), !local.isEmpty,
              local.unicodeScalars.allSatisfy({ !"{}*: \t".unicodeScalars.contains($0) }),
              let first = local.unicodeScalars.first, !CharacterSet.decimalDigits.contains(first), first != "-", first != "."
        else { return nil }
        if namespace.isEmpty {
            pattern = nil
        } else {
            guard let parsed = try? NamespacePattern.parse(namespace) else { return nil }
            pattern = parsed
        }
        namespacePattern = namespace
        localName = local
    }

    /// `{namespace}LocalName`, as configured.
    public var description: String { "{\(namespacePattern)}\(localName)" }

    public static func == (lhs: ContainerSlot, rhs: ContainerSlot) -> Bool {
        lhs.namespacePattern == rhs.namespacePattern && lhs.localName == rhs.localName
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(namespacePattern)
        hasher.combine(localName)
    }

    /// Whether `namespace` is one the pattern names.
    func matches(namespace: String) -> Bool {
        pattern?.matches(namespace) ?? namespace.isEmpty
    }

    /// The document bodies of the FTS album of formats (5.x, every version) and of the
    /// EEC: every `xs:any` slot of the album that carries a whole document.
    /// `ED_Container` is the FTS container proper; the e-archive, EPS, customs-mark,
    /// ATA and payment wrappers carry a document each; `ccdo:AnyDetails` is the EEC's
    /// "XML document of any structure"; the sample envelope's `Body` stands for the EEC
    /// interaction envelope.
    public static let defaults: [ContainerSlot] = [
        "{urn:customs.ru:Information:ExchangeDocuments:ED_Container:*}DocBody",
        "{urn:customs.ru:Information:EArchDocuments:ArchContainer:*}ArchDoc",
        "{urn:customs.ru:Information:EArchDocuments:ArchAddDocRequest:*}ArchDoc",
        "{urn:customs.ru:Information:EArchDocuments:ArchDocUpdate:*}ArchDoc",
        "{urn:customs.ru:Information:EArchDocuments:ArchDocResponse:*}ArchDocument",
        "{urn:customs.ru:Information:ExchangeDocuments:EPS_DocResponse:*}DocResponseBody",
        "{urn:customs.ru:Information:ExchangeDocuments:EPS_EnvResponse:*}EnvData",
        "{urn:customs.ru:Information:CustomsDocuments:CustomsMark:*}TransportDocumentBody",
        "{urn:customs.ru:Information:CustomsDocuments:CustomsMark:*}ClsEsadInfoDocumentBody",
        "{urn:customs.ru:Information:CustomsDocuments:CustomsMark:*}CustomsMarkDocumentBody",
        "{urn:customs.ru:Information:CustomsDocuments:CustomsMark:*}TransitInfoDocumentBody",
        "{urn:customs.ru:Information:TransportDocuments:ATA:ATA_CommonTypes:*}CarnetOperation",
        "{urn:customs.ru:Information:TransportDocuments:ATA:ATA_CommonTypes:*}MinCul",
        "{urn:customs.ru:Information:TransportDocuments:ATA:ATA_CommonTypes:*}Body",
        "{urn:customs.ru:Information:CommercialFinanceDocuments:ReceiptPayment:*}PaymentDocument",
        "{urn:EEC:M:ComplexDataObjects:v*}AnyDetails",
        "{urn:kordon:sample:EEC:Interaction:v*}Body",
    ].map { ContainerSlot($0)! }
}
