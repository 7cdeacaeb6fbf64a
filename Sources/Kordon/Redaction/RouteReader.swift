import Foundation
import KordonCore
import KordonRules
import KordonXML

/// Reads a message's route (sending and receiving state) from a document, by the
/// configured XPaths of its document family.
struct RouteReader {
    /// The configured route sources, in order of preference.
    let sources: [RulesConfiguration.RouteSource]

    /// The route `document` names, or `nil` when its family has no route source or
    /// the elements are missing. `documentType` is the inspection's `{namespace}Local`.
    ///
    /// Every source whose namespace (or namespace pattern, `urn:customs.ru:**`) matches the
    /// root's is asked in order, and each state is taken from the first that gives one: an
    /// FTS document's message header (sender, recipient) before its goods' dispatch and
    /// destination countries, say.
    func route(of document: XMLEditableDocument, documentType: String?) -> Report.Route? {
        guard let documentType, documentType.hasPrefix("{"), let close = documentType.firstIndex(of: "}") else { return nil }
        let namespace = String(documentType[documentType.index(after: documentType.startIndex)..<close])
        var from: String?
        var to: String?
        for source in sources where Self.applies(source, to: namespace) {
            let bindings = NamespacePattern.expand(source.prefixes.mapValues { [$0] }, declared: document.declaredNamespaces)
            if from == nil { from = state(document, source.from, bindings) }
            if to == nil { to = state(document, source.to, bindings) }
            if from != nil && to != nil { break }
        }
        return from != nil || to != nil ? Report.Route(from: from, to: to) : nil
    }

    /// Whether `source` is meant for documents whose root is in `namespace`.
    private static func applies(_ source: RulesConfiguration.RouteSource, to namespace: String) -> Bool {
        guard let pattern = try? NamespacePattern.parse(source.namespace) else { return source.namespace == namespace }
        return pattern.matches(namespace)
    }

    /// The two-letter code at `xpath`, uppercased; `nil` unless it is exactly two letters.
    private func state(_ document: XMLEditableDocument, _ xpath: String, _ bindings: [String: [String]]) -> String? {
        let selector = XMLSelector(id: "route", xpath: xpath, namespaces: bindings)
        guard let element = (try? document.select(selector))?.first else { return nil }
        let code = String(decoding: document.text(of: element), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        return Report.Route.isStateCode(code) ? code : nil
    }
}
