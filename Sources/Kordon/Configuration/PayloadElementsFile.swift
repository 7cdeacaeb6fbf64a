import KordonXML
import Yams

extension ConfigurationFile {
    /// The `schemas.payloads:` list: attachment elements added to ``PayloadElements/defaults``,
    /// each a namespace (or a family: `…:*` any version, `…:**` every namespace below a stem)
    /// and the element paths in it:
    ///
    /// ```yaml
    /// schemas:
    ///   payloads:
    ///     - namespace: "urn:example:Attachments:*"
    ///       elements: [Attachment/Data, Photo]
    /// ```
    static func payloadElements(_ node: Node, reader: Reader, over base: PayloadElements) throws -> PayloadElements {
        let key = "schemas.payloads"
        guard let list = node.sequence else { throw reader.fail(node, key, "must be a list of {namespace, elements} entries") }
        var added: [PayloadElements.Element] = []
        for item in list {
            let entry = try reader.mapping(item, at: key)
            try reader.onlyKnown(entry, ["namespace", "elements"], at: key)
            guard let namespaceNode = entry["namespace"] else { throw reader.fail(item, key, "needs namespace") }
            guard let elementsNode = entry["elements"] else { throw reader.fail(item, key, "needs elements (element paths such as DocumentBody/FileData)") }
            let namespace = try reader.string(namespaceNode, at: "\(key).namespace")
            let paths = try reader.strings(elementsNode, at: "\(key).elements")
            guard !paths.isEmpty else { throw reader.fail(elementsNode, "\(key).elements", "must name at least one element") }
            for path in paths {
                do {
                    added.append(try PayloadElements.Element(namespace: namespace, path: path))
                } catch let error as PayloadElementError {
                    throw reader.fail(item, key, "has an entry that is not valid: \(error.message)")
                }
            }
        }
        return base.adding(added)
    }
}
