/// Makes libxml2's messages safe to put in a finding's `detail`.
enum LibXMLMessage {
    /// The longest message kept.
    static let maximumLength = 300

    /// A parser message without the raw bytes libxml2 appends to encoding errors
    /// (`Input is not proper UTF-8, indicate encoding ! Bytes: 0xC3 0x28 …`): they are document content.
    static func parserMessage(_ message: String) -> String {
        let withoutBytes = message.range(of: "Bytes:").map { String(message[..<$0.lowerBound]) } ?? message
        return sanitized(withoutBytes)
    }

    /// One line of printable text, at most ``maximumLength`` characters.
    static func sanitized(_ message: String) -> String {
        var text = String(message.unicodeScalars.map { scalar -> Character in
            scalar.value < 0x20 || scalar.value == 0x7F ? " " : Character(scalar)
        })
        text = text.trimmingCharacters(in: .whitespaces)
        if text.count > maximumLength { text = String(text.prefix(maximumLength)) + "…" }
        return text
    }

    /// Words after which libxml2's schema messages quote a name from the schema
    /// (`Element '{ns}Name'`, `attribute 'x'`, `[facet 'pattern']`, `atomic type 'xs:decimal'`,
    /// `the pattern '[0-9]{12}'`, `maximum length of '12'`). Anything else in quotes may be
    /// a value from the document.
    private static let namePrecedingWords: Set<String> = ["element", "attribute", "facet", "type", "pattern", "of"]

    /// Replaces every quoted string that may be a value from the document with `'…'`.
    ///
    /// Schema messages quote the offending value (`'abc' is not a valid value of the
    /// atomic type 'xs:decimal'`, `The value '…' is not accepted by the pattern`), and
    /// a value may be restricted data, which must never reach a report. Quoted text is
    /// kept only right after a word that introduces a schema name; everything else
    /// quoted is redacted, erring on the side of saying too little.
    static func redactingValues(_ message: String) -> String {
        var output = ""
        var rest = Substring(message)
        while let open = rest.firstIndex(of: "'") {
            let before = rest[..<open]
            output += before
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: "'") else {
                output += "'…"
                return sanitized(output)
            }
            // Only the text since the previous quoted string counts: an element named
            // `type` must not make the value after it look like a type name.
            let precedingWord = before.split(whereSeparator: { !$0.isLetter }).last.map { $0.lowercased() } ?? ""
            let endsWithSpace = before.last == " "
            if endsWithSpace, namePrecedingWords.contains(precedingWord) {
                output += rest[open...close]
            } else {
                output += "'…'"
            }
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        return sanitized(output)
    }
}
