import Foundation
import KordonCore
import KordonCrypto

/// The audit log's head file (`<log>.head`): how many records the log holds and
/// the last one's MAC, so that records dropped from the end are noticed.
///
/// Two fixed-size slots of ``slotSize`` bytes, each one JSON line padded with
/// spaces: `{"count":N,"mac":"<hex>","check":"<hex>"}`, where `check` is the
/// HMAC-SHA256 of `kordon-audit-head:N:<mac>`. The writer overwrites the slot
/// holding the older count in place (`pwrite`, then `fdatasync`), so a group
/// commit costs no new inode (replacing the file each time created and evicted
/// one per group), and a write torn by a crash leaves the other slot, which
/// counts at most what the durable log holds. Readers take the valid slot with
/// the higher count. A slot that is not of the slot's shape (torn, zeroed,
/// overwritten with other bytes) is ignored while the other one is valid; a slot
/// of the right shape whose `check` fails was edited, or written with another
/// key, and makes the whole head invalid. A file that is one such line alone (the
/// head before the slots) is read as a head of one slot; the writer replaces it.
struct AuditHead: Equatable {
    /// Bytes per slot; both slots lie in the first 512-byte sector of the file.
    static let slotSize = 256

    /// What one valid slot says.
    struct Slot: Equatable {
        var count: Int
        var mac: String
    }

    /// Each slot's content, `nil` where the slot is torn.
    var slots: [Slot?]

    /// The valid slot with the highest count: what the head says (``AuditFormat/parseHead(_:)``
    /// makes heads only of content with at least one valid slot).
    var latest: Slot {
        slots.compactMap { $0 }.max { $0.count < $1.count }!
    }

    /// Whether this is the two-slot layout (else a one-line head to be replaced).
    var isSlotted: Bool { slots.count == 2 }

    /// The slot the next update overwrites: a torn one, else the one with the older count.
    var freeSlot: Int {
        guard let first = slots[0] else { return 0 }
        guard let second = slots[1] else { return 1 }
        return first.count <= second.count ? 0 : 1
    }
}

extension AuditFormat {
    /// One slot for `count` records ending with `mac`: the line padded to ``AuditHead/slotSize``.
    func headSlot(count: Int, mac: String) throws -> [UInt8] {
        let check = Self.hex(try hmac.authenticate("kordon-audit-head:\(count):\(mac)"))
        var slot = Array(#"{"count":\#(count),"mac":"\#(mac)","check":"\#(check)"}"#.utf8)
        guard slot.count < AuditHead.slotSize else {
            throw KordonError(code: "audit.head", message: "the audit head for \(count) records does not fit in its slot")
        }
        slot += [UInt8](repeating: UInt8(ascii: " "), count: AuditHead.slotSize - 1 - slot.count)
        slot.append(0x0A)
        return slot
    }

    /// A fresh head file: both slots for `count` records ending with `mac`.
    func headFile(count: Int, mac: String) throws -> Data {
        let slot = try headSlot(count: count, mac: mac)
        return Data(slot + slot)
    }

    /// Reads a head file's content: throws ``LineProblem/badMAC`` when a slot was
    /// changed or written with another key, ``LineProblem/malformed`` when no slot is valid.
    func parseHead(_ bytes: [UInt8]) throws -> AuditHead {
        let pieces = bytes.count == 2 * AuditHead.slotSize
            ? [bytes[..<AuditHead.slotSize], bytes[AuditHead.slotSize...]]
            : [bytes[...]]
        let slots = try pieces.map(parseSlot)
        guard slots.contains(where: { $0 != nil }) else { throw LineProblem.malformed }
        return AuditHead(slots: slots)
    }

    /// One slot's count and MAC; `nil` when it is not a slot at all (torn).
    private func parseSlot(_ bytes: ArraySlice<UInt8>) throws -> AuditHead.Slot? {
        struct Line: Decodable { var count: Int; var mac: String; var check: String }
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == 0x0A { end -= 1 }
        guard let line = try? JSONDecoder().decode(Line.self, from: Data(bytes[bytes.startIndex..<end])) else { return nil }
        let expected = Self.hex(try hmac.authenticate("kordon-audit-head:\(line.count):\(line.mac)"))
        guard line.count >= 0, ConstantTime.equal(line.check, expected) else { throw LineProblem.badMAC }
        return AuditHead.Slot(count: line.count, mac: line.mac)
    }
}

/// The writer's open head file: read when the log is (re)opened or another process
/// wrote, then updated one slot at a time through a descriptor kept open.
///
/// Only the audit writer's threads use it, under its file lock and the log's `flock`.
struct AuditHeadFile {
    /// What reading found.
    enum Reading {
        /// No head file.
        case missing
        /// A head file no slot of which is valid, or one with a changed slot.
        case invalid(AuditFormat.LineProblem)
        /// A valid head.
        case valid(AuditHead)
    }

    let url: URL
    private var fd: Int32 = -1
    private var slotted = false
    private var next = 0

    init(url: URL) {
        self.url = url
    }

    /// Reopens and reads the file (another process may have created or updated it).
    mutating func read(format: AuditFormat) throws -> Reading {
        close()
        let fd = open(url.path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return .missing }
            throw DurableFile.failure("cannot open the audit head \(url.path)", errno)
        }
        self.fd = fd
        var bytes = [UInt8](repeating: 0, count: 4 * AuditHead.slotSize)
        let done: Int
        do {
            done = try bytes.withUnsafeMutableBytes { raw in
                try FileDescriptorIO.read(fd, into: raw.baseAddress!, count: raw.count, at: 0)
            }
        } catch let error as FileDescriptorIO.Failure {
            throw DurableFile.failure("cannot read the audit head \(url.path)", error.code)
        }
        do {
            let head = try format.parseHead(Array(bytes.prefix(done)))
            slotted = head.isSlotted
            next = head.isSlotted ? head.freeSlot : 0
            return .valid(head)
        } catch let problem as AuditFormat.LineProblem {
            return .invalid(problem)
        }
    }

    /// Records `count` and `mac` durably: ``write(count:mac:format:)``, then `fdatasync`.
    mutating func update(count: Int, mac: String, format: AuditFormat) throws {
        try write(count: count, mac: mac, format: format)
        // The file's size never changes, so fdatasync need not flush its times.
        guard fdatasync(fd) == 0 else { throw DurableFile.failure("cannot flush the audit head \(url.path)", errno) }
    }

    /// Records `count` and `mac` in the free slot, not yet flushed (the caller flushes
    /// ``descriptor``); when there is no slotted file yet, or it has the one-line
    /// layout, a new file is written whole, flushed and renamed into place.
    mutating func write(count: Int, mac: String, format: AuditFormat) throws {
        guard fd >= 0, slotted else {
            close()
            try DurableFile.write(try format.headFile(count: count, mac: mac), to: url, mode: 0o600)
            fd = open(url.path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw DurableFile.failure("cannot open the audit head \(url.path)", errno) }
            slotted = true
            next = 0
            return
        }
        let slot = try format.headSlot(count: count, mac: mac)
        do {
            try slot.withUnsafeBytes { raw in
                try FileDescriptorIO.writeAll(fd, raw, at: next * AuditHead.slotSize)
            }
        } catch let error as FileDescriptorIO.Failure {
            throw DurableFile.failure("cannot write the audit head \(url.path)", error.code)
        }
        next = 1 - next
    }

    /// The open head file's descriptor (valid after a successful ``write(count:mac:format:)``).
    var descriptor: Int32 { fd }

    mutating func close() {
        if fd >= 0 { Foundation.close(fd) }
        fd = -1
    }
}
