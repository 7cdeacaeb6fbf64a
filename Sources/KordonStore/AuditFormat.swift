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
/// dropping the last records (which leaves a valid shorter chain) is detected too;
/// its layout is described in ``AuditHead``.
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

    /// Appends record `seq`'s line (with its newline) to `out` and returns its MAC
    /// as hex digits. `time` is the group's formatted ``timestamp(_:)``; `scratch`
    /// is a buffer the caller keeps between records (the bytes the MAC covers).
    func appendLine(seq: Int, time: [UInt8], entry: AuditEntry, prev: [UInt8], to out: inout [UInt8],
                    scratch: inout [UInt8]) throws -> [UInt8] {
        scratch.removeAll(keepingCapacity: true)
        AuditJSON.append(#"{"seq":"#, to: &scratch)
        AuditJSON.decimal(seq, to: &scratch)
        AuditJSON.append(#","time":""#, to: &scratch)
        scratch.append(contentsOf: time)
        AuditJSON.append(#"","entry":"#, to: &scratch)
        AuditJSON.append(entry, to: &scratch)
        AuditJSON.append(#","prev":""#, to: &scratch)
        scratch.append(contentsOf: prev)
        scratch.append(UInt8(ascii: "\""))
        var mac: [UInt8] = []
        mac.reserveCapacity(64)
        AuditJSON.hex(try hmac.authenticate(scratch), to: &mac)
        out.append(contentsOf: scratch)
        out.append(contentsOf: Self.macKey)
        out.append(contentsOf: mac)
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "}"), 0x0A])
        return mac
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
        guard ConstantTime.equal(written, expected) else { throw LineProblem.badMAC }
        // Authentic bytes that do not decode cannot come from Kordon: count them as changed.
        guard let record = try? JSONDecoder().decode(Record.self, from: Data(line)) else { throw LineProblem.malformed }
        return record
    }

    /// `<log>.head`.
    static func headURL(_ file: URL) -> URL {
        file.deletingLastPathComponent().appendingPathComponent(file.lastPathComponent + ".head")
    }

    /// UTC, millisecond precision: `2025-01-31T12:00:00.000Z` (digits placed by hand:
    /// `String(format:)` goes through Foundation's formatter).
    static func timestamp(_ date: Date) -> [UInt8] {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let milliseconds = min(999, Int((date.timeIntervalSince1970 - seconds) * 1000))
        var out: [UInt8] = []
        out.reserveCapacity(24)
        let fields: [(Int, Int, UInt8)] = [
            (Int(parts.tm_year) + 1900, 4, UInt8(ascii: "-")), (Int(parts.tm_mon) + 1, 2, UInt8(ascii: "-")),
            (Int(parts.tm_mday), 2, UInt8(ascii: "T")), (Int(parts.tm_hour), 2, UInt8(ascii: ":")),
            (Int(parts.tm_min), 2, UInt8(ascii: ":")), (Int(parts.tm_sec), 2, UInt8(ascii: ".")), (milliseconds, 3, UInt8(ascii: "Z")),
        ]
        for (value, width, separator) in fields {
            AuditJSON.padded(value, width: width, to: &out)
            out.append(separator)
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        SHA256Digest.hex(bytes: bytes)
    }
}
