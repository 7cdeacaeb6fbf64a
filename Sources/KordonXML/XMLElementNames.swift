import CLibXML2

/// The expanded names (namespace URI, local name) of every element of one document, gathered
/// in one walk, so that a rule naming elements the document does not have is not evaluated.
public struct XMLElementNames: Sendable {
    /// `uri` U+001F `local` for each element name present.
    private let names: Set<String>
    /// Every namespace URI at least one element is in (`""`: no namespace).
    private let namespaces: Set<String>

    /// Whether some element is `{namespace}localName`.
    public func contains(namespace: String, localName: String) -> Bool {
        names.contains(namespace + "\u{1F}" + localName)
    }

    /// Whether some element is in `namespace`.
    public func hasElements(in namespace: String) -> Bool {
        namespaces.contains(namespace)
    }

    init(root: xmlNodePtr?) {
        // Names are interned in the parse's dictionary and most elements share a few namespace
        // declarations, so pairs of pointers are collected first and turned into strings once.
        var pairs: Set<Pair> = []
        if let root {
            XMLTree.forEachNode(in: root) { node in
                guard node.pointee.type == XML_ELEMENT_NODE, let name = node.pointee.name else { return }
                pairs.insert(Pair(namespace: node.pointee.ns.map { UInt(bitPattern: $0) } ?? 0, name: UInt(bitPattern: name)))
            }
        }
        var names: Set<String> = []
        var namespaces: Set<String> = []
        for pair in pairs {
            let namespace = pair.namespace == 0 ? ""
                : (xmlNsPtr(bitPattern: pair.namespace)?.pointee.href).map { String(cString: $0) } ?? ""
            let local = UnsafePointer<xmlChar>(bitPattern: pair.name).map { String(cString: $0) } ?? ""
            names.insert(namespace + "\u{1F}" + local)
            namespaces.insert(namespace)
        }
        self.names = names
        self.namespaces = namespaces
    }

    private struct Pair: Hashable {
        var namespace: UInt
        var name: UInt
    }
}

extension XMLEditableDocument {
    /// The expanded names of the document's elements as they are now (one walk of the tree).
    public func elementNames() -> XMLElementNames {
        XMLElementNames(root: xmlDocGetRootElement(document.handle))
    }
}
