import Foundation
import KordonCore
import Synchronization

/// The XML Schema namespace.
let xsdNamespace = "http://www.w3.org/2001/XMLSchema"

/// Reads schema files once each, guarded like any other XML, and finds their references.
final class SchemaFileReader {
    /// File name → local path, standing in for remote schema locations.
    let catalog: [String: String]
    /// What each file declares, shared by every reader of one registry (see ``SchemaFileFactsCache``).
    let facts: SchemaFileFactsCache
    private var documents: [String: XMLDocument] = [:]

    init(catalog: [String: String], facts: SchemaFileFactsCache = SchemaFileFactsCache()) {
        self.catalog = catalog
        self.facts = facts
    }

    /// The parsed schema document at `path`; throws a ``KordonError`` naming the file.
    func document(at path: String) throws -> XMLDocument {
        if let cached = documents[path] { return cached }
        let prepared = try Self.prepared(path)
        do {
            let document = try XMLDocument(parsing: prepared)
            guard let root = document.root, root.qname == QName(namespace: xsdNamespace, localName: "schema") else {
                throw KordonError(code: "schema.not-a-schema", message: "\(path) is not an XML Schema (its root is not xs:schema)")
            }
            documents[path] = document
            return document
        } catch let failure as XMLParseFailure {
            throw KordonError(code: "schema.malformed",
                              message: "schema file \(path) is not well-formed: line \(failure.line): \(failure.message)")
        }
    }

    /// The schema file at `path`, read and passed through the guard like any other XML;
    /// throws a ``KordonError`` naming the file.
    static func prepared(_ path: String) throws -> PreparedXML {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KordonError(code: "schema.unreadable", message: "cannot read schema file \(path); check that it exists and is readable")
        }
        switch XMLInput.prepare(data, limits: .schemaFiles) {
        case .success(let prepared): return prepared
        case .failure(let refusal):
            throw KordonError(code: "schema.refused", message: "schema file \(path) was refused (\(refusal.rule)): \(refusal.detail)")
        }
    }

    /// The local file a `schemaLocation` in `file` points to: relative paths against the
    /// file's folder, `file:` URLs as paths, remote URLs by file name through the catalog.
    func resolve(_ location: String, from file: String) -> String? {
        let location = location.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !location.isEmpty else { return nil }
        let path: String
        if let scheme = LocalEntityLoader.scheme(of: location), scheme != "file" {
            let name = location.split(separator: "?").first.map { $0.split(separator: "/").last.map(String.init) ?? "" } ?? ""
            guard let local = catalog[name] ?? catalog[name.removingPercentEncoding ?? name] else { return nil }
            path = local
        } else if LocalEntityLoader.scheme(of: location) == "file" {
            guard let local = URL(string: location)?.path else { return nil }
            path = local
        } else if location.hasPrefix("/") {
            path = location
        } else {
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            path = folder.appendingPathComponent(location.removingPercentEncoding ?? location).standardizedFileURL.path
        }
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Visits the schema file at `path` and every file it reaches, each once per namespace
    /// (`visited` keeps track across calls): files it includes or redefines in its own
    /// namespace (a chameleon include takes the includer's), files it imports in theirs,
    /// each before the file that references it. `body` gets the file's `xs:schema` element
    /// and the namespace its definitions belong to.
    func visitClosure(of path: String, chameleonNamespace: String?, visited: inout Set<String>,
                      _ body: (_ schema: XMLNode, _ targetNamespace: String) throws -> Void) throws {
        guard let schema = try document(at: path).root else { return }
        let targetNamespace = schema.attribute("targetNamespace") ?? chameleonNamespace ?? ""
        guard visited.insert(path + "\u{0}" + targetNamespace).inserted else { return }
        for child in schema.children where child.namespace == xsdNamespace {
            guard let location = child.attribute("schemaLocation"), let target = resolve(location, from: path) else { continue }
            switch child.localName {
            case "include", "redefine": try visitClosure(of: target, chameleonNamespace: targetNamespace, visited: &visited, body)
            case "import": try visitClosure(of: target, chameleonNamespace: nil, visited: &visited, body)
            default: break
            }
        }
        try body(schema, targetNamespace)
    }

    /// The files `path` includes or redefines (same namespace) and imports (another namespace).
    func references(of path: String) throws -> (includes: [String], imports: [String]) {
        let document = try document(at: path)
        var includes: [String] = [], imports: [String] = []
        for child in document.root?.children ?? [] where child.namespace == xsdNamespace {
            guard let location = child.attribute("schemaLocation"), let target = resolve(location, from: path) else { continue }
            switch child.localName {
            case "include", "redefine": includes.append(target)
            case "import": imports.append(target)
            default: break
            }
        }
        return (includes, imports)
    }
}

/// Which elements hold `xs:base64Binary` content, according to the registered schemas.
///
/// Built from the XSD documents themselves: named simple types derived by restriction
/// (at any depth), complex types with simple content extending or restricting such a
/// type, anonymous types, across includes (chameleon includes take the includer's
/// namespace) and imports. Local elements are qualified with the target namespace when
/// `form="qualified"` or `elementFormDefault="qualified"`, else have no namespace.
struct SchemaTypeIndex: Sendable {
    /// Elements every declaration of which is base64Binary-typed.
    let base64Elements: Set<QName>
    /// Elements declared base64Binary somewhere and otherwise elsewhere: decoded when
    /// they decode, left alone (no finding) when they do not.
    let ambiguousElements: Set<QName>
    /// Elements declared with another type only (kept so that indexes can be joined).
    let otherElements: Set<QName>

    /// An index that knows no elements.
    static let empty = SchemaTypeIndex(base64Elements: [], ambiguousElements: [], otherElements: [])

    init(base64Elements: Set<QName>, ambiguousElements: Set<QName>, otherElements: Set<QName> = []) {
        self.base64Elements = base64Elements
        self.ambiguousElements = ambiguousElements
        self.otherElements = otherElements
    }

    /// Reads the schema files reachable from `roots`.
    init(roots: [String], reader: SchemaFileReader) throws {
        let builder = Builder(reader: reader)
        for root in roots { try builder.process(root, chameleonNamespace: nil) }
        var typed: Set<QName> = [], untyped: Set<QName> = []
        for (name, type) in builder.elements {
            if builder.isBase64(type) { typed.insert(name) } else { untyped.insert(name) }
        }
        self.init(base64Elements: typed.subtracting(untyped), ambiguousElements: typed.intersection(untyped),
                  otherElements: untyped.subtracting(typed))
    }

    /// The index of the schemas of both: an element base64Binary in one and otherwise
    /// in the other is ambiguous.
    func joined(with other: SchemaTypeIndex) -> SchemaTypeIndex {
        let typed = base64Elements.union(ambiguousElements).union(other.base64Elements).union(other.ambiguousElements)
        let untyped = otherElements.union(ambiguousElements).union(other.otherElements).union(other.ambiguousElements)
        return SchemaTypeIndex(base64Elements: typed.subtracting(untyped), ambiguousElements: typed.intersection(untyped),
                               otherElements: untyped.subtracting(typed))
    }
}

private enum Derivation {
    case base(QName)
    case none
}

private enum ElementType {
    case named(QName)
    case anonymous(Derivation)
    case substitution(QName)
    case none
}

/// What one schema file declares (read in one namespace: a chameleon include takes its
/// includer's), in document order: its references, named types, element declarations.
private struct FileFacts: Sendable {
    var targetNamespace: String
    var references: [(isImport: Bool, target: String)] = []
    var types: [(QName, Derivation, [LengthFacet])] = []
    var elements: [(name: QName, type: ElementType, isGlobal: Bool, anonymousFacets: [LengthFacet])] = []

    init(targetNamespace: String) {
        self.targetNamespace = targetNamespace
    }
}

/// What each schema file declares, read once per registry and shared by every namespace
/// whose schema reaches the file: the album's common types (CommonLeafTypesCust.xsd,
/// imported by 678 of its files) are walked once, not once per family. A reload brings a
/// new registry, and a new cache with it.
final class SchemaFileFactsCache: Sendable {
    private let entries = Mutex<[String: FileFacts]>([:])

    init() {}

    fileprivate func facts(for key: String, _ read: () throws -> FileFacts) throws -> FileFacts {
        if let known = entries.withLock({ $0[key] }) { return known }
        let facts = try read()
        entries.withLock { $0[key] = facts }
        return facts
    }
}

private final class Builder {
    let reader: SchemaFileReader
    var visited: Set<String> = []
    var types: [QName: Derivation] = [:]
    var elements: [(QName, ElementType)] = []
    var globalElements: [QName: ElementType] = [:]
    /// Length facets libxml2 2.9.14 misreads (see ``LargeLengthFacets``), by type, and by
    /// element for anonymous types (one entry per declaration in `elements`).
    var typeLengthFacets: [QName: [LengthFacet]] = [:]
    var anonymousLengthFacets: [Int: [LengthFacet]] = [:]

    init(reader: SchemaFileReader) {
        self.reader = reader
    }

    func process(_ path: String, chameleonNamespace: String?) throws {
        let key = path + "\u{0}" + (chameleonNamespace ?? "\u{1}")
        let facts = try reader.facts.facts(for: key) { try read(path, chameleonNamespace: chameleonNamespace) }
        guard visited.insert(path + "\u{0}" + facts.targetNamespace).inserted else { return }
        for reference in facts.references {
            try process(reference.target, chameleonNamespace: reference.isImport ? nil : facts.targetNamespace)
        }
        for (qname, derivation, facets) in facts.types {
            // A redefinition restricts the type it replaces: keep the original's base.
            if case .base(let base) = derivation, base == qname, types[qname] != nil {} else { types[qname] = derivation }
            if !facets.isEmpty { typeLengthFacets[qname, default: []] += facets }
        }
        for element in facts.elements {
            if !element.anonymousFacets.isEmpty { anonymousLengthFacets[elements.count] = element.anonymousFacets }
            elements.append((element.name, element.type))
            if element.isGlobal { globalElements[element.name] = element.type }
        }
    }

    /// What the file at `path` declares, read from its document.
    private func read(_ path: String, chameleonNamespace: String?) throws -> FileFacts {
        guard let schema = try reader.document(at: path).root else { return FileFacts(targetNamespace: chameleonNamespace ?? "") }
        var facts = FileFacts(targetNamespace: schema.attribute("targetNamespace") ?? chameleonNamespace ?? "")
        for child in schema.children where child.namespace == xsdNamespace {
            guard let location = child.attribute("schemaLocation"), let target = reader.resolve(location, from: path) else { continue }
            switch child.localName {
            case "include", "redefine": facts.references.append((isImport: false, target: target))
            case "import": facts.references.append((isImport: true, target: target))
            default: break
            }
        }
        collect(schema, into: &facts, qualifiedByDefault: schema.attribute("elementFormDefault") == "qualified")
        return facts
    }

    private func collect(_ node: XMLNode, into facts: inout FileFacts, qualifiedByDefault: Bool) {
        let targetNamespace = facts.targetNamespace
        for child in node.children {
            guard child.namespace == xsdNamespace else { continue }  // appinfo content and the like
            switch child.localName {
            case "simpleType", "complexType":
                if let name = child.attribute("name") {
                    facts.types.append((QName(namespace: targetNamespace, localName: name), derivation(of: child), LengthFacet.large(in: child)))
                }
            case "element":
                if let name = child.attribute("name") {
                    let isGlobal = node.localName == "schema" || node.localName == "redefine"
                    let form = child.attribute("form")
                    let qualified = isGlobal || form == "qualified" || (form == nil && qualifiedByDefault)
                    let type = elementType(of: child)
                    var anonymousFacets: [LengthFacet] = []
                    if case .anonymous = type,
                       let inline = child.children.first(where: { $0.namespace == xsdNamespace && ($0.localName == "simpleType" || $0.localName == "complexType") }) {
                        anonymousFacets = LengthFacet.large(in: inline)
                    }
                    facts.elements.append((name: QName(namespace: qualified ? targetNamespace : "", localName: name), type: type,
                                           isGlobal: isGlobal, anonymousFacets: anonymousFacets))
                }
            case "annotation":
                continue
            default:
                break
            }
            collect(child, into: &facts, qualifiedByDefault: qualifiedByDefault)
        }
    }

    private func derivation(of type: XMLNode) -> Derivation {
        let content: XMLNode?
        if type.localName == "simpleType" {
            content = type
        } else {
            content = type.children.first { $0.namespace == xsdNamespace && $0.localName == "simpleContent" }
        }
        guard let content,
              let step = content.children.first(where: {
                  $0.namespace == xsdNamespace && ($0.localName == "restriction" || $0.localName == "extension")
              })
        else { return .none }
        if let base = step.attribute("base") {
            return step.resolve(qualifiedName: base).map(Derivation.base) ?? .none
        }
        if let inner = step.children.first(where: { $0.namespace == xsdNamespace && $0.localName == "simpleType" }) {
            return derivation(of: inner)
        }
        return .none
    }

    private func elementType(of element: XMLNode) -> ElementType {
        if let type = element.attribute("type") {
            return element.resolve(qualifiedName: type).map(ElementType.named) ?? .none
        }
        if let inline = element.children.first(where: {
            $0.namespace == xsdNamespace && ($0.localName == "simpleType" || $0.localName == "complexType")
        }) {
            return .anonymous(derivation(of: inline))
        }
        if let head = element.attribute("substitutionGroup") {
            return element.resolve(qualifiedName: head).map(ElementType.substitution) ?? .none
        }
        return .none
    }

    func isBase64(_ type: ElementType, hops: Int = 0) -> Bool {
        guard hops < 64 else { return false }  // a substitution-group cycle
        switch type {
        case .named(let name): return isBase64(type: name)
        case .anonymous(.base(let base)): return isBase64(type: base)
        case .anonymous(.none), .none: return false
        case .substitution(let head): return globalElements[head].map { isBase64($0, hops: hops + 1) } ?? false
        }
    }

    private func isBase64(type: QName) -> Bool {
        var current = type
        var seen: Set<QName> = []
        while seen.insert(current).inserted {
            if current == QName(namespace: xsdNamespace, localName: "base64Binary") { return true }
            guard case .base(let base)? = types[current] else { return false }
            current = base
        }
        return false
    }

    /// The large length facets in force on an element's type: every restriction step of
    /// its derivation counts, and whether the value is measured in octets (binary types).
    func lengthFacets(ofElementAt index: Int) -> (facets: [LengthFacet], octets: Bool) {
        var facets = anonymousLengthFacets[index] ?? []
        var current: QName?
        switch elements[index].1 {
        case .named(let name): current = name
        case .anonymous(.base(let base)): current = base
        default: current = nil
        }
        var seen: Set<QName> = []
        while let name = current, seen.insert(name).inserted {
            if name.namespace == xsdNamespace {
                return (facets, name.localName == "base64Binary" || name.localName == "hexBinary")
            }
            facets += typeLengthFacets[name] ?? []
            guard case .base(let base)? = types[name] else { break }
            current = base
        }
        return (facets, false)
    }
}

extension LargeLengthFacets {
    /// Reads the schema files reachable from `roots` for length facets libxml2 misreads.
    init(roots: [String], reader: SchemaFileReader) throws {
        let builder = Builder(reader: reader)
        for root in roots { try builder.process(root, chameleonNamespace: nil) }
        var byElement: [QName: ElementLengthLimit] = [:]
        for index in builder.elements.indices {
            let (facets, octets) = builder.lengthFacets(ofElementAt: index)
            guard !facets.isEmpty else { continue }
            // An element declared twice keeps every limit: never weaker than either declaration.
            let name = builder.elements[index].0
            let limit = ElementLengthLimit(facets: facets, countsOctets: octets)
            byElement[name] = byElement[name].map { $0.merged(with: limit) } ?? limit
        }
        self.init(elements: byElement)
    }
}
