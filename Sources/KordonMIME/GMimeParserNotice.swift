import CGMime

/// A parser warning GMime reported while constructing the message.
///
/// Only the warnings that change what Kordon can vouch for are kept; the others
/// (an unencoded 8-bit header, a duplicated `Received:`) are harmless to a scanner.
enum GMimeParserNotice: Sendable, Equatable {
    /// GMime stopped descending: the nesting is deeper than it will parse.
    case nestingOverflow
    /// A MIME header (`Content-Type`, `Content-Transfer-Encoding`, ...) appears twice
    /// with different values: readers disagree on which one counts.
    case conflictingHeader
    /// A Content-Type or Content-Disposition parameter appears twice with different values.
    case conflictingParameter
    /// A multipart without a `boundary` parameter: its body is one opaque blob.
    case multipartWithoutBoundary
    /// A header line that is not a header (no colon, bad name): GMime ends the
    /// header block there, other readers may not, so parsers disagree on the structure.
    case invalidHeaderName
    /// A part with neither headers nor content, a known way to confuse MIME parsers.
    case partWithoutHeadersOrContent
}

/// Receives GMime's parser warnings during one `construct_message` call (one thread).
final class GMimeNoticeCollector {
    var notices: [GMimeParserNotice] = []

    func record(_ code: GMimeParserWarning) {
        switch code {
        case GMIME_CRIT_NESTING_OVERFLOW: notices.append(.nestingOverflow)
        case GMIME_CRIT_CONFLICTING_HEADER: notices.append(.conflictingHeader)
        case GMIME_CRIT_CONFLICTING_PARAMETER: notices.append(.conflictingParameter)
        case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: notices.append(.multipartWithoutBoundary)
        case GMIME_CRIT_INVALID_HEADER_NAME: notices.append(.invalidHeaderName)
        case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: notices.append(.partWithoutHeadersOrContent)
        default: break
        }
    }
}
