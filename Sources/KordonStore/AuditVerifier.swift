import Foundation
import KordonCore
import KordonCrypto

extension AuditLog {
    /// Checks the whole chain.
    ///
    /// Reads the log as a stream (any size) with the key in `keyFile` (never created
    /// here: verifying needs the key the log was written with). Record by record:
    /// its MAC must match its bytes (else *changed*), its number must be its
    /// position (else *removed* or *reordered*, told apart by whether the missing
    /// number turns up later), and its `prev` must be the MAC of the record before
    /// (else *changed*). Then the end: an incomplete last line is *cut mid-line*,
    /// and the head file must count no more records than there are and name the MAC
    /// of the record it counted (else the last records were *removed*); both of its
    /// slots are held to that when both are valid (see ``AuditHead``).
    public static func verify(file: URL, keyFile: String) throws -> AuditVerification {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw KordonError(code: "audit.missing", message: "cannot read the audit log \(file.path): check the path (audit.file in the configuration)")
        }
        defer { try? handle.close() }
        guard let key = try KeyFile.read(keyFile) else {
            throw KordonError(code: "audit.key", message: "the audit key file \(keyFile) is missing; verifying needs the key the log was written with")
        }
        let format = AuditFormat(hmac: try HMACSHA256(key: key))
        let headURL = AuditFormat.headURL(file)
        // Read under a shared lock on the log: the writer updates the head in place
        // holding the exclusive one, so a slot is never read half written.
        _ = try? FileDescriptorIO.retryingInterrupts { flock(handle.fileDescriptor, LOCK_SH) }
        let headData = FileManager.default.contents(atPath: headURL.path)
        flock(handle.fileDescriptor, LOCK_UN)
        let head = headData.flatMap { try? format.parseHead([UInt8]($0)) }
        // The counts whose records' MACs the head names, newest first.
        let counted = (head?.slots.compactMap { $0 } ?? []).sorted { $0.count > $1.count }
        var macsAtCounts: [Int: String] = [:]

        var lines = LineReader(handle: handle)
        var position = 0
        var previous = AuditFormat.genesis
        var intents = OpenIntents()
        while let (line, complete) = try lines.next() {
            guard complete else {
                return AuditVerification(records: position, firstBad: position + 1, problem:
                    "cut mid-line (the log ends in an incomplete record: it was truncated, or kordon crashed while writing it and has not reopened the log since)")
            }
            position += 1
            let bad = { (problem: String) in AuditVerification(records: position - 1, firstBad: position, problem: problem) }
            let record: AuditFormat.Record
            do {
                record = try format.parse(line[...])
            } catch AuditFormat.LineProblem.badMAC {
                return bad("changed (its MAC does not match its content, or it was written with another key)")
            } catch {
                return bad(line.isEmpty ? "changed (an empty line stands in its place)" : "changed (it is not a well-formed record)")
            }
            if record.seq != position {
                if record.seq > position {
                    return try lines.containsRecord(position, format: format)
                        ? bad("reordered (record \(record.seq) stands here; record \(position) comes later)")
                        : bad("removed (record \(position - 1) is followed by record \(record.seq))")
                }
                return bad("reordered (record \(record.seq) stands here, after record \(position - 1))")
            }
            guard record.prev == previous else {
                return bad("changed (it does not chain to record \(position - 1): its prev is not that record's MAC)")
            }
            previous = record.mac
            intents.note(record)
            if counted.contains(where: { $0.count == position }) { macsAtCounts[position] = record.mac }
        }
        let end = { (firstBad: Int, problem: String) in AuditVerification(records: position, firstBad: firstBad, problem: problem) }
        guard headData != nil else {
            return position == 0 ? AuditVerification(records: 0, danglingIntents: intents.dangling)
                : end(position + 1, "removed? (the head file \(headURL.lastPathComponent) is missing, so removal of records after \(position) cannot be ruled out)")
        }
        guard let head else {
            return end(position + 1, "removed? (the head file \(headURL.lastPathComponent) was changed or written with another key, so removal of records after \(position) cannot be ruled out)")
        }
        let latest = head.latest
        guard latest.count <= position else {
            return end(position + 1, "removed (the log ends after record \(position), but its head counts \(latest.count) records)")
        }
        for slot in counted where slot.count > 0 && macsAtCounts[slot.count] != slot.mac {
            return end(slot.count, "changed (it is not the record the head file counted)")
        }
        return AuditVerification(records: position, danglingIntents: intents.dangling)
    }
}

/// The operator actions whose intent has been read and whose outcome has not yet.
private struct OpenIntents {
    private var open: [String: AuditVerification.DanglingIntent] = [:]

    /// Opens an action at its `…-intent` record; closes it at any later record of its id.
    mutating func note(_ record: AuditFormat.Record) {
        guard let action = record.entry.action else { return }
        if record.entry.event.hasSuffix("-intent") {
            open[action] = AuditVerification.DanglingIntent(record: record.seq, event: record.entry.event, time: record.time,
                                                            action: action, quarantineID: record.entry.quarantineID)
        } else {
            open[action] = nil
        }
    }

    /// The actions still open, in log order.
    var dangling: [AuditVerification.DanglingIntent] { open.values.sorted { $0.record < $1.record } }
}

/// Lines of a file read in 1 MiB chunks, each with whether it ended in a newline.
private struct LineReader {
    let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(handle: FileHandle) {
        self.handle = handle
    }

    mutating func next() throws -> (line: [UInt8], complete: Bool)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return (line, true)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let rest = Array(buffer[start...])
                start = buffer.count
                return (rest, false)
            }
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { atEnd = true }
            buffer.removeFirst(start)
            start = 0
            buffer.append(contentsOf: chunk)
        }
    }

    /// Whether an authentic record numbered `seq` comes later (consumes the rest).
    mutating func containsRecord(_ seq: Int, format: AuditFormat) throws -> Bool {
        while let (line, complete) = try next() {
            if complete, let record = try? format.parse(line[...]), record.seq == seq { return true }
        }
        return false
    }
}
