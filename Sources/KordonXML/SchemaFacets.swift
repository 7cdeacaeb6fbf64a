import Foundation
import KordonCore

/// One declaration of an element, as far as its text is concerned.
struct ElementValueDeclaration: Sendable, Hashable {
    /// The simple type of its text, or `nil` when its content is not a simple value
    /// (element-only, mixed, `xs:anyType`).
    var facets: ValueFacets?
    /// Whether its content may hold text at all: false for element-only content, so an
    /// element with text in a valid document is not of this declaration.
    var allowsText: Bool = true
}

/// For every element the schemas reachable from some root files declare: the simple
/// types its declarations give its text, and whether any content model requires it.
///
/// Built from the XSD documents like ``SchemaTypeIndex``: named and anonymous simple
/// types, restrictions at any depth (every step's facets kept), complex types with
/// simple content, substitution groups, includes (chameleon ones take the includer's
/// namespace), redefinitions and imports. An element name declared in several places
/// keeps every declaration; the caller tells them apart by the value in the document.
struct SchemaFacets: Sendable {
    /// Declarations by element name.
    let declarations: [QName: [ElementValueDeclaration]]
    /// Elements some content model requires (`minOccurs` not 0 in any particle around it).
    let required: Set<QName>
    /// The simple types attribute declarations give, by the attribute's local name
    /// (`nil`: a type Kordon does not judge).
    let attributes: [String: [ValueFacets?]]

    /// Knows no elements.
    static let empty = SchemaFacets(declarations: [:], required: [], attributes: [:])

    init(declarations: [QName: [ElementValueDeclaration]], required: Set<QName>, attributes: [String: [ValueFacets?]]) {
        self.declarations = declarations
        self.required = required
        self.attributes = attributes
    }

    /// Reads the schema files reachable from `roots`.
    init(roots: [String], reader: SchemaFileReader) throws {
        let builder = FacetBuilder(reader: reader)
        for root in roots { try builder.process(root, chameleonNamespace: nil) }
        self.init(declarations: builder.resolvedDeclarations(), required: builder.required,
                  attributes: builder.resolvedAttributes())
    }
}

/// A type reference as written in a schema: a name, an inline definition, or nothing.
private enum TypeSource {
    case named(QName)
    case inline(XMLNode, namespace: String)
    case substitution(QName)
    case none
}

private final class FacetBuilder {
    let reader: SchemaFileReader
    var visited: Set<String> = []
    /// Named simple and complex types, with the namespace their unprefixed references mean.
    var types: [QName: (node: XMLNode, namespace: String)] = [:]
    /// Declarations with their `fixed` value, if any.
    var elements: [(QName, TypeSource, fixed: String?)] = []
    var attributes: [(String, TypeSource, fixed: String?)] = []
    var globalElements: [QName: TypeSource] = [:]
    var required: Set<QName> = []
    private var memo: [QName: ValueFacets?] = [:]

    init(reader: SchemaFileReader) {
        self.reader = reader
    }

    func process(_ path: String, chameleonNamespace: String?) throws {
        try reader.visitClosure(of: path, chameleonNamespace: chameleonNamespace, visited: &visited) { schema, targetNamespace in
            collect(schema, targetNamespace: targetNamespace, qualifiedByDefault: schema.attribute("elementFormDefault") == "qualified",
                    optionalAround: false)
        }
    }

    private func collect(_ node: XMLNode, targetNamespace: String, qualifiedByDefault: Bool, optionalAround: Bool) {
        for child in node.children where child.namespace == xsdNamespace {
            let optionalHere = optionalAround || child.attribute("minOccurs") == "0"
            switch child.localName {
            case "simpleType", "complexType":
                if let name = child.attribute("name") {
                    let qname = QName(namespace: targetNamespace, localName: name)
                    // A redefinition restricts the type it replaces: the first definition stays the base.
                    if types[qname] == nil || node.localName != "redefine" { types[qname] = (child, targetNamespace) }
                }
            case "element":
                let isGlobal = node.localName == "schema" || node.localName == "redefine"
                if let name = child.attribute("name") {
                    let form = child.attribute("form")
                    let qualified = isGlobal || form == "qualified" || (form == nil && qualifiedByDefault)
                    let qname = QName(namespace: qualified ? targetNamespace : "", localName: name)
                    let source = typeSource(of: child, namespace: targetNamespace)
                    elements.append((qname, source, child.attribute("fixed")))
                    if isGlobal { globalElements[qname] = source } else if !optionalHere { required.insert(qname) }
                } else if let reference = child.attribute("ref"), !optionalHere,
                          let qname = resolve(reference, at: child, namespace: targetNamespace) {
                    required.insert(qname)
                }
            case "attribute":
                if let name = child.attribute("name") {
                    attributes.append((name, typeSource(of: child, namespace: targetNamespace), child.attribute("fixed")))
                }
            case "annotation":
                continue
            default:
                break
            }
            // An element's own content model starts afresh: a required child of an optional
            // element is required whenever that element is there.
            collect(child, targetNamespace: targetNamespace, qualifiedByDefault: qualifiedByDefault,
                    optionalAround: child.localName == "element" ? false : optionalHere)
        }
    }

    /// A QName in a schema attribute; an unprefixed one in a chameleon file means its includer's namespace.
    private func resolve(_ value: String, at node: XMLNode, namespace: String) -> QName? {
        guard let name = node.resolve(qualifiedName: value) else { return nil }
        if name.namespace.isEmpty, !value.contains(":") { return QName(namespace: namespace, localName: name.localName) }
        return name
    }

    private func typeSource(of element: XMLNode, namespace: String) -> TypeSource {
        if let type = element.attribute("type") {
            return resolve(type, at: element, namespace: namespace).map(TypeSource.named) ?? .none
        }
        if let inline = element.children.first(where: {
            $0.namespace == xsdNamespace && ($0.localName == "simpleType" || $0.localName == "complexType")
        }) {
            return .inline(inline, namespace: namespace)
        }
        if let head = element.attribute("substitutionGroup") {
            return resolve(head, at: element, namespace: namespace).map(TypeSource.substitution) ?? .none
        }
        return .none
    }

    func resolvedDeclarations() -> [QName: [ElementValueDeclaration]] {
        var result: [QName: [ElementValueDeclaration]] = [:]
        for (name, source, fixed) in elements {
            let facets = Self.fixing(facets(of: source, element: name, hops: 0), to: fixed)
            let declaration = ElementValueDeclaration(facets: facets, allowsText: facets != nil || allowsText(source, hops: 0))
            if !(result[name]?.contains(declaration) ?? false) { result[name, default: []].append(declaration) }
        }
        return result
    }

    func resolvedAttributes() -> [String: [ValueFacets?]] {
        var result: [String: [ValueFacets?]] = [:]
        for (name, source, fixed) in attributes {
            // An attribute without a type is xs:anySimpleType: anything goes.
            let facets = Self.fixing(facets(of: source, element: QName(namespace: "", localName: "@" + name), hops: 0), to: fixed)
            if !(result[name]?.contains(facets) ?? false) { result[name, default: []].append(facets) }
        }
        return result
    }

    /// A declaration's `fixed` value is the only value it accepts: an enumeration of one.
    private static func fixing(_ facets: ValueFacets?, to fixed: String?) -> ValueFacets? {
        guard var facets, let fixed else { return facets }
        facets.steps.insert(FacetStep(enumerations: [fixed]), at: 0)
        return facets
    }

    private func facets(of source: TypeSource, element: QName, hops: Int) -> ValueFacets? {
        guard hops < 64 else { return nil }  // a substitution-group cycle
        switch source {
        case .named(let type): return facets(ofType: type)
        case .inline(let node, let namespace):
            return facets(ofDefinition: node, namespace: namespace, name: "an anonymous type of \(element)", depth: 0)
        case .substitution(let head): return globalElements[head].flatMap { facets(of: $0, element: head, hops: hops + 1) }
        case .none: return nil
        }
    }

    /// Whether a type without simple content may still hold text: mixed content, `xs:anyType`,
    /// or a type Kordon cannot find (then nothing is assumed).
    private func allowsText(_ source: TypeSource, hops: Int) -> Bool {
        guard hops < 64 else { return true }
        let definition: XMLNode
        switch source {
        case .named(let type):
            guard type.namespace != xsdNamespace, let known = types[type]?.node else { return true }
            definition = known
        case .inline(let node, _): definition = node
        case .substitution(let head): return globalElements[head].map { allowsText($0, hops: hops + 1) } ?? true
        case .none: return true
        }
        guard definition.localName == "complexType" else { return true }
        let complexContent = definition.children.first { $0.namespace == xsdNamespace && $0.localName == "complexContent" }
        return definition.attribute("mixed") == "true" || complexContent?.attribute("mixed") == "true"
    }

    private func facets(ofType type: QName, depth: Int = 0) -> ValueFacets? {
        if type.namespace == xsdNamespace {
            return type.localName == "anyType" ? nil : ValueFacets(typeName: "xs:\(type.localName)", builtin: type.localName, steps: [])
        }
        if let known = memo[type] { return known }
        guard depth < 64, let (node, namespace) = types[type] else { return nil }
        memo[type] = .some(nil)  // a derivation cycle resolves to "not judged"
        let result = facets(ofDefinition: node, namespace: namespace, name: type.description, depth: depth)
        memo[type] = result
        return result
    }

    /// The facets of one simple type, or of the simple content of one complex type.
    private func facets(ofDefinition definition: XMLNode, namespace: String, name: String, depth: Int) -> ValueFacets? {
        guard depth < 64 else { return nil }
        let content: XMLNode?
        if definition.localName == "simpleType" {
            content = definition
        } else {
            content = definition.children.first { $0.namespace == xsdNamespace && $0.localName == "simpleContent" }
        }
        guard let content,
              let step = content.children.first(where: {
                  $0.namespace == xsdNamespace && ["restriction", "extension", "list", "union"].contains($0.localName)
              }),
              step.localName == "restriction" || step.localName == "extension"
        else { return nil }
        var base: ValueFacets?
        if let reference = step.attribute("base") {
            guard let baseName = resolve(reference, at: step, namespace: namespace) else { return nil }
            base = facets(ofType: baseName, depth: depth + 1)
        } else if let inline = step.children.first(where: { $0.namespace == xsdNamespace && $0.localName == "simpleType" }) {
            base = facets(ofDefinition: inline, namespace: namespace, name: name, depth: depth + 1)
        }
        guard var result = base else { return nil }
        result.typeName = name
        if step.localName == "restriction" {
            let added = Self.facetStep(of: step)
            if !added.isEmpty { result.steps.insert(added, at: 0) }
        }
        return result
    }

    private static func facetStep(of restriction: XMLNode) -> FacetStep {
        var step = FacetStep()
        for facet in restriction.children where facet.namespace == xsdNamespace {
            guard let value = facet.attribute("value") else { continue }
            switch facet.localName {
            case "pattern": step.patterns.append(value)
            case "enumeration": step.enumerations.append(value)
            case "length": step.length = Int(value.trimmingCharacters(in: .whitespaces))
            case "minLength": step.minLength = Int(value.trimmingCharacters(in: .whitespaces))
            case "maxLength": step.maxLength = Int(value.trimmingCharacters(in: .whitespaces))
            case "totalDigits": step.totalDigits = Int(value.trimmingCharacters(in: .whitespaces))
            case "fractionDigits": step.fractionDigits = Int(value.trimmingCharacters(in: .whitespaces))
            case "minInclusive": step.minInclusive = value
            case "maxInclusive": step.maxInclusive = value
            case "minExclusive": step.minExclusive = value
            case "maxExclusive": step.maxExclusive = value
            case "whiteSpace": step.whiteSpace = value.trimmingCharacters(in: .whitespaces)
            default: break
            }
        }
        return step
    }
}
