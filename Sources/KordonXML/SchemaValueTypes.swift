import CLibXML2
import Foundation
import KordonCore

/// What the agreed schemas allow in one element's text: what a replacement written
/// there by the restricted-data stage must satisfy for the document to stay valid.
public struct ValueType: Sendable {
    /// The element's simple type, for findings (`{urn:customs.ru:CommonLeafTypes:5.10.0}IINType`).
    public let name: String
    /// The type's facets without any value, for findings (`xs:token, pattern \d{12}`).
    public let summary: String
    /// Whether a content model of the schemas requires the element: removing it would
    /// make the document invalid.
    public let isRequired: Bool
    /// The declarations of the element whose type accepts its present text (the document
    /// validated, so the one in force is among them): a replacement must fit them all.
    let declarations: [ValueFacets]

    /// Whether UTF-8 `value` would be a valid text for the element (whitespace as written).
    public func accepts(_ value: [UInt8]) -> Bool {
        declarations.allSatisfy { $0.accepts(value) }
    }

    /// Whether the schemas say anything about the element's text.
    public var constrainsText: Bool { !declarations.isEmpty }
}

extension XMLEditableDocument {
    /// The value type of the element at `path` (an element path as sites and selections
    /// give it: `/Root/Child[2]/Leaf`), according to the schemas of the document's root
    /// namespace and of the element's own; `nil` when the schemas do not declare it.
    ///
    /// Of several declarations of the element's name, those whose type rejects its
    /// present text are left out. Read before the element is changed.
    public func valueType(ofElementAt path: String, schemas: SchemaRegistry?) -> ValueType? {
        guard let schemas, let node = element(at: path) else { return nil }
        let element = XMLNode(document: document, pointer: node)
        let rootNamespace = document.root?.namespace ?? ""
        var declarations: [ElementValueDeclaration] = []
        var isRequired = false
        // The root's schema imports what its documents use; the element's own namespace
        // answers for an element the root's schema does not reach (a container's content).
        for namespace in rootNamespace == element.namespace ? [rootNamespace] : [rootNamespace, element.namespace] {
            let facets = schemas.valueFacets(for: namespace)
            guard let found = facets.declarations[element.qname] else { continue }
            declarations = found
            isRequired = facets.required.contains(element.qname)
            break
        }
        guard !declarations.isEmpty else { return nil }
        let present = XMLTree.ownText(of: node)
        // Text in a valid document rules out the declarations of element-only content.
        if !XMLTree.isWhitespace(present) { declarations = declarations.filter(\.allowsText) }
        let typed = declarations.compactMap(\.facets).filter(\.isJudged)
        // Element-only or mixed content somewhere, or no declaration accepts the present
        // text (a facet Kordon reads differently from libxml2): the text is not judged here,
        // and revalidation of the whole document stays the judge.
        let fitting = typed.count == declarations.count ? typed.filter { $0.accepts(present) } : []
        let names = Set(fitting.map(\.typeName)).sorted()
        return ValueType(name: names.isEmpty ? "(not a simple type)" : names.joined(separator: " or "),
                         summary: Set(fitting.map(\.summary)).sorted().joined(separator: " or "),
                         isRequired: isRequired, declarations: fitting)
    }

    /// The value type of attribute `name` (a local name, as text sites give it) holding
    /// `present`, according to the schema of the document's root namespace; `nil` when no
    /// declaration of that name says what its value may be. Attributes are matched by
    /// name across the schemas: every declaration whose type accepts `present` must
    /// accept a replacement too.
    public func valueType(ofAttribute name: String, holding present: [UInt8], schemas: SchemaRegistry?) -> ValueType? {
        guard let schemas, let declared = schemas.valueFacets(for: document.root?.namespace ?? "").attributes[name],
              declared.allSatisfy({ $0?.isJudged == true })
        else { return nil }
        let fitting = declared.compactMap { $0 }.filter { $0.accepts(present) }
        guard !fitting.isEmpty else { return nil }
        return ValueType(name: Set(fitting.map(\.typeName)).sorted().joined(separator: " or "),
                         summary: Set(fitting.map(\.summary)).sorted().joined(separator: " or "),
                         isRequired: false, declarations: fitting)
    }

    /// The element at an element path, or `nil` when the path names none.
    private func element(at path: String) -> xmlNodePtr? {
        var steps = path.split(separator: "/", omittingEmptySubsequences: true)[...]
        guard let first = steps.popFirst(), var node = xmlDocGetRootElement(document.handle),
              XMLNode.localName(of: node) == Self.stepName(first).name
        else { return nil }
        for step in steps {
            let (name, position) = Self.stepName(step)
            var seen = 0
            var found: xmlNodePtr?
            var child = node.pointee.children
            while let candidate = child {
                if candidate.pointee.type == XML_ELEMENT_NODE, XMLNode.localName(of: candidate) == name {
                    seen += 1
                    if seen == position { found = candidate; break }
                }
                child = candidate.pointee.next
            }
            guard let found else { return nil }
            node = found
        }
        return node
    }

    /// `Name[3]` → (`Name`, 3); `Name` → (`Name`, 1).
    private static func stepName(_ step: Substring) -> (name: String, position: Int) {
        guard step.hasSuffix("]"), let open = step.lastIndex(of: "["),
              let position = Int(step[step.index(after: open)..<step.index(before: step.endIndex)])
        else { return (String(step), 1) }
        return (String(step[..<open]), position)
    }
}

extension SchemaRegistry {
    /// The value facets of the schema registered for `namespace` and everything it
    /// includes and imports, read on first use and kept as long as this registry;
    /// empty for a namespace without a schema, or one whose files cannot be read.
    func valueFacets(for namespace: String) -> SchemaFacets {
        derived("value-facets", for: namespace) { root, reader in try SchemaFacets(roots: [root], reader: reader) } ?? .empty
    }
}
