import Foundation
import KordonCore
import KordonStore
import Testing

/// The head file's two slots, updated in place, and the record bytes written by hand.
@Suite("Audit head and record bytes", .timeLimit(.minutes(10)))
struct AuditHeadTests {
    private typealias Log = AuditLogFiles

    private static func entry(_ n: Int) -> AuditEntry {
        AuditEntry(event: "decision", source: "icap/\(n)", messageSHA256: String(repeating: "ab", count: 32),
                   verdict: "clean", route: Report.Route(from: "KZ", to: "RU"))
    }

    @Test("the head is two 256-byte slots updated in place: the newest count and the one before, same inode throughout")
    func slotsInPlace() throws {
        let log = try Log("audit-head")
        defer { log.remove() }
        let audit = try log.open()
        #expect(try log.slots() == [String](repeating: try log.slots()[0], count: 2), "a new head holds count 0 twice")
        #expect(try log.slots()[0].hasPrefix("{\"count\":0,"))
        let inode = try log.inode(log.head)
        for n in 1...5 {
            try audit.append(Self.entry(n))
            let slots = try log.slots()
            #expect(slots.filter { $0.hasPrefix("{\"count\":\(n),") }.count == 1, "\(slots)")
            #expect(slots.filter { $0.hasPrefix("{\"count\":\(n - 1),") }.count == 1, "\(slots)")
        }
        #expect(try log.inode(log.head) == inode)
        #expect(try storeMode(log.head.path) == 0o600)
        for slot in try log.slots() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(slot.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["count", "mac", "check"])
        }
    }

    @Test("the head survives a reopen: the count, the chain and the file (same inode) carry on")
    func survivesReopen() throws {
        let log = try Log("audit-head")
        defer { log.remove() }
        do {
            let audit = try log.open()
            for n in 0..<7 { try audit.append(Self.entry(n)) }
        }
        let inode = try log.inode(log.head)
        let before = try log.slots()
        do {
            let audit = try log.open()
            #expect(audit.count == 7)
            #expect(try log.slots() == before, "opening a log whose head is up to date writes nothing")
            try audit.append(Self.entry(7))
        }
        #expect(try log.open().count == 8)
        #expect(try log.inode(log.head) == inode)
        #expect(try log.verify() == AuditVerification(records: 8))
    }

    @Test("one slot torn (garbage or zeros), either one: the log opens, verifies and repairs the slot on its next group",
          arguments: [true, false])
    func oneSlotTorn(newest: Bool) throws {
        for filler in [[UInt8](repeating: 0, count: 256), Array(String(repeating: "{\"count\":9", count: 26).utf8)] {
            let log = try Log("audit-head")
            defer { log.remove() }
            do {
                let audit = try log.open()
                for n in 0..<4 { try audit.append(Self.entry(n)) }
            }
            let torn = try log.slot(counting: newest ? 4 : 3)
            try log.overwriteSlot(torn, with: filler)
            #expect(try log.verify() == AuditVerification(records: 4))
            let audit = try log.open()
            #expect(audit.count == 4)
            if newest {
                #expect(try log.slot(counting: 4) == torn, "opening brings the head up to the log, in the torn slot")
            }
            try audit.append(Self.entry(4))
            #expect(try log.slot(counting: 5) == (newest ? 1 - torn : torn), "a group writes the torn or older slot, keeping the other")
            #expect(try log.slot(counting: 4) == (newest ? torn : 1 - torn))
            #expect(try log.verify() == AuditVerification(records: 5))
        }
    }

    @Test("both slots torn: verification cannot rule out removed records and the log is not continued")
    func bothSlotsTorn() throws {
        let log = try Log("audit-head")
        defer { log.remove() }
        do {
            let audit = try log.open()
            for n in 0..<3 { try audit.append(Self.entry(n)) }
        }
        try log.overwriteSlot(0, with: Array(repeating: UInt8(ascii: "x"), count: 256))
        try log.overwriteSlot(1, with: Array(repeating: 0, count: 256))
        let result = try log.verify()
        #expect(result.firstBad == 4, "\(result.summary)")
        #expect(result.problem?.hasPrefix("removed?") == true)
        #expect(storeErrorCode { _ = try log.open() } == "audit.broken")
    }

    @Test("the older slot edited (well-formed, wrong check) is a changed head, not a torn one")
    func olderSlotEdited() throws {
        let log = try Log("audit-head")
        defer { log.remove() }
        do {
            let audit = try log.open()
            for n in 0..<3 { try audit.append(Self.entry(n)) }
        }
        let older = try log.slot(counting: 2)
        let text = try log.slots()[older].replacingOccurrences(of: "{\"count\":2,", with: "{\"count\":1,")
        try log.overwriteSlot(older, with: Array(text.utf8) + Array(repeating: UInt8(ascii: " "), count: 256 - text.utf8.count))
        #expect(try log.verify().firstBad == 4)
        #expect(storeErrorCode { _ = try log.open() } == "audit.broken")
    }

    @Test("after many groups from concurrent callers, dropping the last record or the last 40 is still caught", arguments: [1, 40])
    func tailTruncatedAfterGroups(dropped: Int) async throws {
        let log = try Log("audit-head")
        defer { log.remove() }
        do {
            let audit = try log.open()
            for round in 0..<10 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for n in 0..<30 { group.addTask { try await audit.commit(Self.entry(round * 100 + n)) } }
                    try await group.waitForAll()
                }
                try audit.append(AuditEntry(event: "reload"))
            }
            #expect(audit.count == 310)
        }
        #expect(try log.verify() == AuditVerification(records: 310))
        let lines = try log.lines()
        try log.write(Array(lines.prefix(310 - dropped)))
        let result = try log.verify()
        #expect(result.firstBad == 311 - dropped, "\(result.summary)")
        #expect(result.problem?.hasPrefix("removed") == true, "\(result.summary)")
        #expect(storeErrorCode { _ = try log.open() } == "audit.broken")
    }

    @Test("a one-line head (the layout before the slots) is read, and replaced by the two slots on open")
    func oneLineHeadMigrated() throws {
        let log = try Log("audit-head")
        defer { log.remove() }
        do {
            let audit = try log.open()
            for n in 0..<3 { try audit.append(Self.entry(n)) }
        }
        let line = try log.slots()[try log.slot(counting: 3)]
        try Data((line + "\n").utf8).write(to: log.head)
        #expect(try log.verify() == AuditVerification(records: 3))
        try Data((line.replacingOccurrences(of: "{\"count\":3,", with: "{\"count\":4,") + "\n").utf8).write(to: log.head)
        #expect(storeErrorCode { _ = try log.open() } == "audit.broken")
        try Data((line + "\n").utf8).write(to: log.head)
        #expect(try log.open().count == 3)
        #expect(try log.slots() == [line, line])
        #expect(try log.verify() == AuditVerification(records: 3))
    }

    @Test("the hand-written entry bytes are what JSONEncoder (sorted keys, unescaped slashes) writes, for every field")
    func entryBytesMatchJSONEncoder() throws {
        // A field added to AuditEntry must be added to the hand encoder (AuditJSON) too.
        #expect(Mirror(reflecting: AuditEntry(event: "x")).children.compactMap(\.label) == [
            "event", "source", "messageSHA256", "outputSHA256", "verdict", "rules", "route", "quarantineID", "detail", "purpose", "action",
        ])
        let awkward = "q\"b\\s/n\nt\tr\rb\u{8}f\u{c}x\u{1}y\u{1f}z\u{7f}é😀\u{2028}ж"
        let entries = [
            AuditEntry(event: "start"),
            AuditEntry(event: "decision", source: "inbox/a b.xml", messageSHA256: String(repeating: "ab", count: 32),
                       outputSHA256: String(repeating: "cd", count: 32), verdict: "sanitized", rules: ["r.1", "r/2", awkward],
                       route: Report.Route(from: "KZ", to: "RU"), quarantineID: "q-1", detail: awkward, purpose: "customs",
                       action: "a-1"),
            AuditEntry(event: awkward, route: Report.Route(from: nil, to: "BY")),
            AuditEntry(event: "release", route: Report.Route(from: "AM", to: nil), detail: ""),
            AuditEntry(event: "purge", route: Report.Route(from: nil, to: nil)),
        ]
        let log = try Log("audit-head")
        defer { log.remove() }
        let audit = try log.open()
        for entry in entries { try audit.append(entry) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let lines = try log.lines()
        #expect(lines.count == entries.count)
        for (line, entry) in zip(lines, entries) {
            let start = try #require(line.range(of: Data(#","entry":"#.utf8))).upperBound
            let end = try #require(line.range(of: Data(#","prev":""#.utf8), options: .backwards)).lowerBound
            #expect(line[start..<end] == (try encoder.encode(entry)), "\(String(decoding: line, as: UTF8.self))")
            let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
            let time = try #require(object["time"] as? String)
            #expect(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(time)")
        }
        #expect(try log.verify() == AuditVerification(records: entries.count))
    }
}

/// The head file's slots, for the tests above.
private extension AuditLogFiles {
    /// The head's slots as text, trailing padding removed.
    func slots() throws -> [String] {
        let data = try Data(contentsOf: head)
        #expect(data.count == 512)
        return [data.prefix(256), data.suffix(256)].map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Overwrites the 256 bytes of slot `index` (0 or 1) with `bytes`.
    func overwriteSlot(_ index: Int, with bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: head)
        try handle.seek(toOffset: UInt64(index * 256))
        try handle.write(contentsOf: Data(bytes.prefix(256)))
        try handle.close()
    }

    /// Which slot holds `count`.
    func slot(counting count: Int) throws -> Int {
        try #require(try slots().firstIndex { $0.hasPrefix("{\"count\":\(count),") })
    }

    func inode(_ url: URL) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int)
    }
}

