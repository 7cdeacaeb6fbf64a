import CLibXML2

/// What the walk needs to know about one namespace declaration (`xmlNs`), looked up
/// once per declaration rather than once per element.
struct NamespaceCache {
    struct Info {
        /// The namespace URI, `""` for none.
        var namespace: String
        /// Whether an agreed schema defines it.
        var agreed: Bool
        /// The local names of the container slots in it.
        var slotNames: Set<String>
    }

    let slots: [ContainerSlot]
    let schemas: SchemaRegistry
    private var known: [UnsafeMutableRawPointer?: Info] = [:]
    private var byURI: [String: Info] = [:]
    private var last: (key: UnsafeMutableRawPointer?, info: Info)?

    init(slots: [ContainerSlot], schemas: SchemaRegistry) {
        self.slots = slots
        self.schemas = schemas
    }

    /// The facts about the namespace `ns` names (`nil`: no namespace).
    mutating func info(for ns: xmlNsPtr?) -> Info {
        let key = ns.map { UnsafeMutableRawPointer($0) }
        if let last, last.key == key { return last.info }
        let info = known[key] ?? {
            // Some writers declare the namespace again on every element: one declaration
            // each, but few URIs, so the URI is looked up once too.
            let uri = ns?.pointee.href.map { String(cString: $0) } ?? ""
            let found = byURI[uri] ?? Info(namespace: uri, agreed: schemas.hasSchema(for: uri),
                                           slotNames: Set(slots.filter { $0.matches(namespace: uri) }.map(\.localName)))
            known[key] = found
            byURI[uri] = found
            return found
        }()
        last = (key, info)
        return info
    }

    /// Whether `element` is a container slot.
    mutating func isSlot(_ element: xmlNodePtr) -> Bool {
        let names = info(for: element.pointee.ns).slotNames
        return !names.isEmpty && names.contains(XMLNode.localName(of: element))
    }
}

/// Element paths (see ``XMLPathTracker``) of the few elements a report names, worked
/// out on demand: each parent's children are numbered once, so naming every document
/// of a container with thousands of them costs one pass over its children, not one each.
struct ElementPaths {
    private var paths: [xmlNodePtr: String] = [:]
    private var steps: [xmlNodePtr: [xmlNodePtr: String]] = [:]

    /// `/ED_Container/ContainerDoc[2]/DocBody` for an element of the document.
    mutating func path(of element: xmlNodePtr) -> String {
        if let known = paths[element] { return known }
        let found: String
        if let parent = element.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE {
            found = path(of: parent) + "/" + step(of: element, in: parent)
        } else {
            found = "/" + XMLNode.localName(of: element)
        }
        paths[element] = found
        return found
    }

    /// The element's step among its parent's children: its name, with its position
    /// when the parent has more than one child of that name.
    private mutating func step(of element: xmlNodePtr, in parent: xmlNodePtr) -> String {
        if let known = steps[parent] { return known[element] ?? XMLNode.localName(of: element) }
        var cursor = ChildCursor(parent: parent)
        var numbered: [xmlNodePtr: String] = [:]
        while let child = cursor.next {
            cursor.next = child.pointee.next
            if child.pointee.type == XML_ELEMENT_NODE { numbered[child] = cursor.step(for: child) }
        }
        steps[parent] = numbered
        return numbered[element] ?? XMLNode.localName(of: element)
    }
}
