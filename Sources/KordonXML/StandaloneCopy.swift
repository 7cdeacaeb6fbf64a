import CLibXML2

/// A subtree of a parsed document copied into a document of its own, to be validated
/// as one (a document carried in a container, see ``ContainerDocuments``).
enum StandaloneCopy {
    /// A new document whose root is a deep copy of `element`, with every namespace
    /// declaration in scope at `element` declared on the copy's root. libxml2 declares
    /// the namespaces the copied elements and attributes use; the others matter to
    /// QName values (`xsi:type="cat_ru:…"`, QName-typed content), which name a prefix
    /// in text. Line numbers are kept, so errors point at lines of the outer document.
    /// `nil` when libxml2 cannot allocate the copy.
    static func document(of element: xmlNodePtr, in source: XMLDocument) -> XMLDocument? {
        guard let handle = xmlNewDoc(source.handle.pointee.version ?? nil) else { return nil }
        let document = XMLDocument(adopting: handle)  // frees the copy on every path out
        guard let copy = xmlDocCopyNode(element, handle, 1) else { return nil }
        xmlDocSetRootElement(handle, copy)
        if let inScope = xmlGetNsList(source.handle, element) {
            defer { kordon_xml_free(inScope) }
            var index = 0
            while let ns = inScope[index] {
                index += 1
                if xmlSearchNs(handle, copy, ns.pointee.prefix) == nil {
                    xmlNewNs(copy, ns.pointee.href, ns.pointee.prefix)
                }
            }
        }
        return document
    }
}
