import CLibXML2
import Foundation
import KordonCore

/// Whether two root schema files that claim one namespace define it the same way.
///
/// During a change of album both versions are configured at once, and every common
/// namespace is defined twice: by byte-identical files, or by files that differ only in
/// their documentation. Those are one definition, registered once. Anything else —
/// a type, a facet, an element, an attribute, or an included file that differs — is two
/// definitions, and which one a document means cannot be known: an error.
enum SchemaEquivalence {
    /// `true` when the files at `a` and `b`, with the files each includes, are
    /// byte-identical or equal once annotations, comments and whitespace between
    /// elements are set aside.
    static func sameDefinition(_ a: String, _ b: String, reader: SchemaFileReader) throws -> Bool {
        let first = try closure(of: a, reader: reader), second = try closure(of: b, reader: reader)
        guard first.count == second.count else { return false }
        for (left, right) in zip(first, second) where !(try same(left, right, reader: reader)) {
            return false
        }
        return true
    }

    /// The file and, depth first, the files it includes or redefines.
    private static func closure(of path: String, reader: SchemaFileReader) throws -> [String] {
        var order: [String] = [], seen: Set<String> = []
        func visit(_ path: String) throws {
            guard seen.insert(path).inserted else { return }
            order.append(path)
            for include in try reader.references(of: path).includes { try visit(include) }
        }
        try visit(path)
        return order
    }

    private static func same(_ a: String, _ b: String, reader: SchemaFileReader) throws -> Bool {
        if a == b { return true }
        if let left = FileManager.default.contents(atPath: a), let right = FileManager.default.contents(atPath: b), left == right {
            return true
        }
        return try canonical(reader.document(at: a)) == canonical(reader.document(at: b))
    }

    /// The schema's definitions as text: elements with their namespace, local name and
    /// sorted attributes, and non-blank text; annotations and comments left out.
    private static func canonical(_ document: XMLDocument) -> String {
        var output = ""
        func write(_ node: xmlNodePtr) {
            var child: xmlNodePtr? = node
            while let current = child {
                defer { child = current.pointee.next }
                switch current.pointee.type {
                case XML_ELEMENT_NODE:
                    let namespace = current.pointee.ns?.pointee.href.map { String(cString: $0) } ?? ""
                    let name = String(cString: current.pointee.name)
                    if namespace == xsdNamespace, name == "annotation" { continue }
                    output += "<{\(namespace)}\(name)"
                    var attributes: [String] = []
                    var attribute = current.pointee.properties
                    while let a = attribute {
                        let ns = a.pointee.ns?.pointee.href.map { String(cString: $0) } ?? ""
                        let value = String(decoding: XMLTree.value(of: a), as: UTF8.self)
                        attributes.append("{\(ns)}\(String(cString: a.pointee.name))=\(value)")
                        attribute = a.pointee.next
                    }
                    output += " " + attributes.sorted().joined(separator: " ") + ">"
                    if let children = current.pointee.children { write(children) }
                    output += "</>"
                case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                    let text = XMLTree.ownText(of: current)
                    if !XMLTree.isWhitespace(text) { output += String(decoding: text, as: UTF8.self) }
                default:
                    continue
                }
            }
        }
        if let root = xmlDocGetRootElement(document.handle) { write(root) }
        return output
    }
}
