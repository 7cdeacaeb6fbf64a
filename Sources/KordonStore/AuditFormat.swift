import Foundation
import KordonCore
import KordonCrypto

/// The audit log's bytes on disk.
///
/// One record per line:
///
///     {"seq":N,"time":"2025-01-31T12:00:00.000Z","entry":{…},"prev":"<hex>","mac":"<hex>"}
///
/// `mac` is the HMAC-SHA256 of the line's bytes up to (not including) `,"mac":` —
/// the canonical bytes are the bytes as written, so verification never depends on
/// re-encoding JSON the same way. `prev` is the previous record's `mac` (64 zeros
/// for the first record), and since `prev` is inside what `mac` covers, each MAC
/// covers the whole chain before it: a record changed, removed or moved breaks the
/// chain at that record.
///
/// The head file (`<log>.head`) holds the count and last MAC, itself MAC'd, so that
/// dropping the last records (which leaves a valid shorter chain) is detected too.
struct AuditFormat: Sendable {
    /// `prev` of the first record.
    static let genesis = String(repeating: "0", count: 64)
    private static let macKey = Array(#","mac":""#.utf8)

    let hmac: HMACSHA256

    /// A parsed, authenticated line.
    struct Record: Decodable {
        var seq: Int
        var time: String
        var entry: AuditEntry
        var prev: String
        var mac: String
    }

    /// Why a line is not a record.
    enum LineProblem: Error {
        /// Not of the record's shape (no MAC at the end, not JSON).
        case malformed
        /// Its MAC does not match its bytes.
        case badMAC
    }

    /// The line (with its newline) for record `seq` and its MAC.
    func line(seq: Int, time: Date, entry: AuditEntry, prev: String) throws -> (bytes: Data, mac: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var body = Data(#"{"seq":\#(seq),"time":"\#(Self.timestamp(time))","entry":"#.utf8)
        body.append(try encoder.encode(entry))
        body.append(Data(#","prev":"\#(prev)""#.utf8))
        let mac = Self.hex(try hmac.authenticate([UInt8](body)))
        body.append(Data(#","mac":"\#(mac)"}"#.utf8))
        body.append(0x0A)
        return (body, mac)
    }

    /// Parses and authenticates one line (without its newline).
    func parse(_ line: ArraySlice<UInt8>) throws -> Record {
        // …,"mac":"<64 hex>"}  — the suffix is fixed-size, so the body is found without parsing JSON.
        let suffixLength = Self.macKey.count + 64 + 2
        guard line.count > suffixLength else { throw LineProblem.malformed }
        let macStart = line.endIndex - suffixLength
        guard line[macStart..<(macStart + Self.macKey.count)].elementsEqual(Self.macKey),
              line[line.endIndex - 2] == UInt8(ascii: "\""), line[line.endIndex - 1] == UInt8(ascii: "}") else {
            throw LineProblem.malformed
        }
        let written = String(decoding: line[(macStart + Self.macKey.count)..<(line.endIndex - 2)], as: UTF8.self)
        let expected = Self.hex(try hmac.authenticate(Array(line[line.startIndex..<macStart])))
        guard Self.constantTimeEqual(written, expected) else { throw LineProblem.badMAC }
        // Authentic bytes that do not decode cannot come from Kordon: count them as changed.
        guard let record = try? JSONDecoder().decode(Record.self, from: Data(line)) else { throw LineProblem.malformed }
        return record
    }

    /// The head file's content for `count` records ending with `mac`.
    func head(count: Int, mac: String) throws -> Data {
        let check = Self.hex(try hmac.authenticate("kordon-audit-head:\(count):\(mac)"))
        return Data(Array(#"{"count":\#(count),"mac":"\#(mac)","check":"\#(check)"}"#.utf8) + [0x0A])
    }

    /// A head file's count and MAC; throws when it is not one Kordon wrote with this key.
    func parseHead(_ data: Data) throws -> (count: Int, mac: String) {
        struct Head: Decodable { var count: Int; var mac: String; var check: String }
        guard let head = try? JSONDecoder().decode(Head.self, from: data), head.count >= 0 else { throw LineProblem.malformed }
        let expected = Self.hex(try hmac.authenticate("kordon-audit-head:\(head.count):\(head.mac)"))
        guard Self.constantTimeEqual(head.check, expected) else { throw LineProblem.badMAC }
        return (head.count, head.mac)
    }

    /// `<log>.head`.
    static func headURL(_ file: URL) -> URL {
        file.deletingLastPathComponent().appendingPathComponent(file.lastPathComponent + ".head")
    }

    /// UTC, millisecond precision: `2025-01-31T12:00:00.000Z`.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let milliseconds = min(999, Int((date.timeIntervalSince1970 - seconds) * 1000))
        return String(format: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.%03ldZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Compares MACs without leaking where they first differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
