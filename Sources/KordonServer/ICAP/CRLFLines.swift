/// Splits bytes at CRLF, the line end of ICAP and HTTP header sections.
enum CRLFLines {
    /// The lines that end with CRLF (without it), and the bytes after the last CRLF.
    /// A bare CR or LF stays inside its line, for the caller to refuse.
    static func split(_ bytes: ArraySlice<UInt8>) -> (lines: [ArraySlice<UInt8>], rest: ArraySlice<UInt8>) {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A {
                lines.append(bytes[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        return (lines, bytes[start...])
    }
}
