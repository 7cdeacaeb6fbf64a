import Foundation
import KordonCore
import KordonXML

/// Reads a message's route (sending and receiving state) from a document, by the
/// configured XPaths of its document family.
struct RouteReader {
    /// The configured route sources.
    let sources: [RulesConfiguration.RouteSource]

    /// The route `document` names, or `nil` when its family has no route source or
    /// the elements are missing. `documentType` is the inspection's `{namespace}Local`.
    func route(of document: XMLEditableDocument, documentType: String?) -> Report.Route? {
        guard let documentType else { return nil }
        for source in sources where documentType.hasPrefix("{\(source.namespace)}") {
            let from = state(document, source.from, source)
            let to = state(document, source.to, source)
            if from != nil || to != nil { return Report.Route(from: from, to: to) }
        }
        return nil
    }

    /// The two-letter code at `xpath`, uppercased; `nil` unless it is exactly two letters.
    private func state(_ document: XMLEditableDocument, _ xpath: String, _ source: RulesConfiguration.RouteSource) -> String? {
        let selector = XMLSelector(id: "route", xpath: xpath, namespaces: source.prefixes.mapValues { [$0] })
        guard let element = (try? document.select(selector))?.first else { return nil }
        let code = String(decoding: document.text(of: element), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        return Report.Route.isStateCode(code) ? code : nil
    }
}
