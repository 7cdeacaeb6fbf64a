import Foundation
import KordonTestSupport
#if canImport(Glibc)
import Glibc
#endif
import Kordon
import KordonCore
@testable import KordonServer
import KordonStore
import Synchronization
import Testing

/// The spool transport, served in-process: what appears in `inbox/` ends up exactly
/// once in `outbox/` or in quarantine, and `work/` is finished after a crash.
@Suite("spool", .timeLimit(.minutes(10)))
struct SpoolServiceTests {
    /// One clean, one infected (EICAR base64 in an element) and one restricted declaration.
    static let messages: Result<(clean: Data, infected: Data, restricted: Data), any Error> = Result {
        (try spoolDeclarations(count: 1, seed: 11)[0],
         try spoolDeclarations(count: 1, seed: 12, embedding: eicar)[0],
         try spoolDeclarations(count: 1, seed: 13, restricted: true)[0])
    }

    @Test("a clean message is delivered to outbox/ byte for byte; nothing is held, nothing left behind")
    func cleanDelivered() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().clean)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let running = try spool.serve(filter)
        let name = spoolUniqueName("clean.xml")
        try spool.drop(message, as: name)
        #expect(await spoolEventually { spool.names(in: spool.outbox) == [name] })
        try await running.stop()
        #expect(try Data(contentsOf: spool.outbox.appendingPathComponent(name)) == message)
        #expect(try spool.held(name, in: filter).isEmpty)
        #expect(spool.names(in: spool.inbox).isEmpty)
        #expect(spool.allNames(in: spool.work) == [".lock"])
        #expect(spool.allNames(in: spool.outbox) == [name], "no temporary file stays in outbox/")
        #expect(running.spool.statistics.delivered == 1)
    }

    @Test("EICAR inside an XML element goes only to quarantine, with the original kept under the claim id")
    func infectedOnlyInQuarantine() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().infected)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let running = try spool.serve(filter)
        let name = spoolUniqueName("infected.xml")
        try spool.drop(message, as: name)
        #expect(await spoolEventually { (try? spool.held(name, in: filter).count) == 1 && spool.allNames(in: spool.work) == [".lock"] })
        try await running.stop()
        #expect(spool.allNames(in: spool.outbox).isEmpty)
        let record = try #require(try spool.held(name, in: filter).first)
        #expect(record.verdict == .quarantined)
        #expect(record.reasons.contains { $0.contains("EICAR") })
        #expect(try filter.store.original(id: record.id) == message)
        #expect(running.spool.statistics.held == 1)
    }

    @Test("a sanitized message: its masked copy in outbox/, its original in quarantine")
    func sanitizedDeliveredAndKept() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().restricted)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let running = try spool.serve(filter)
        let name = spoolUniqueName("restricted.xml")
        try spool.drop(message, as: name)
        #expect(await spoolEventually { spool.names(in: spool.outbox) == [name] && spool.allNames(in: spool.work) == [".lock"] })
        try await running.stop()
        let passed = try Data(contentsOf: spool.outbox.appendingPathComponent(name))
        #expect(passed != message && !passed.isEmpty)
        let records = try spool.held(name, in: filter)
        #expect(records.count == 1)
        #expect(records.first?.verdict == .sanitized)
        #expect(try records.first.map { try filter.store.original(id: $0.id) } == message)
    }

    @Test("files under a partial name (.tmp, .part, leading dot) are not taken until renamed")
    func partialNamesWait() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().clean)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let running = try spool.serve(filter)
        let name = spoolUniqueName("slow.xml")
        let partials = [name + ".part", name + ".tmp", ".\(name)"]
        for partial in partials { try message.write(to: spool.inbox.appendingPathComponent(partial)) }
        // Longer than two rescans (1 s each) and many inotify events.
        try await Task.sleep(for: .milliseconds(2500))
        #expect(spool.allNames(in: spool.inbox) == partials.sorted())
        #expect(spool.allNames(in: spool.outbox).isEmpty)
        try FileManager.default.moveItem(at: spool.inbox.appendingPathComponent(name + ".part"), to: spool.inbox.appendingPathComponent(name))
        #expect(await spoolEventually { spool.names(in: spool.outbox) == [name] })
        try await running.stop()
        #expect(spool.allNames(in: spool.inbox) == [name + ".tmp", ".\(name)"].sorted())
    }

    @Test("minimumAgeMilliseconds: a file is taken only once it is old enough")
    func minimumAge() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().clean)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let running = try spool.serve(filter) { $0.spool.minimumAgeMilliseconds = 1500 }
        let name = spoolUniqueName("young.xml")
        let started = ContinuousClock.now
        try message.write(to: spool.inbox.appendingPathComponent(name))
        try await Task.sleep(for: .milliseconds(700))
        #expect(spool.names(in: spool.inbox) == [name])
        #expect(await spoolEventually { spool.names(in: spool.outbox) == [name] })
        #expect(ContinuousClock.now - started >= .milliseconds(1500))
        try await running.stop()
    }

    @Test("recovery: claims left in work/ are finished under their claim id; stale temporaries go")
    func recovery() async throws {
        let filter = try spoolSharedFilter.get()
        let messages = try Self.messages.get()
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let clean = SpoolClaim(id: "abc123-1-x", name: spoolUniqueName("left-clean.xml"))
        let infected = SpoolClaim(id: "abc123-2-y", name: spoolUniqueName("left-infected.xml"))
        try messages.clean.write(to: spool.work.appendingPathComponent(clean.workName))
        try messages.infected.write(to: spool.work.appendingPathComponent(infected.workName))
        // A temporary file whose claim is gone, and one of the clean claim's (never linked).
        try Data("half".utf8).write(to: spool.outbox.appendingPathComponent(".kordon-zzz-9-q.tmp"))
        try Data("half".utf8).write(to: spool.outbox.appendingPathComponent(clean.temporaryName))
        let running = try spool.serve(filter)
        #expect(await spoolEventually { spool.allNames(in: spool.work) == [".lock"] })
        try await running.stop()
        #expect(spool.allNames(in: spool.outbox) == [clean.name])
        #expect(try Data(contentsOf: spool.outbox.appendingPathComponent(clean.name)) == messages.clean)
        #expect(try spool.held(infected.name, in: filter).map(\.id) == [infected.id])
        #expect(running.spool.statistics.recovered == 2)
    }

    @Test("recovery after a crash between delivery and release: not delivered twice")
    func recoveryAfterDelivery() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().clean)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let claim = SpoolClaim(id: "abc123-3-z", name: spoolUniqueName("delivered.xml"))
        // The state a crash leaves after step 2 of SpoolOutbox: claim, temporary file, its link.
        try message.write(to: spool.work.appendingPathComponent(claim.workName))
        try message.write(to: spool.outbox.appendingPathComponent(claim.temporaryName))
        try FileManager.default.linkItem(at: spool.outbox.appendingPathComponent(claim.temporaryName),
                                         to: spool.outbox.appendingPathComponent(claim.name))
        let running = try spool.serve(filter)
        #expect(await spoolEventually { spool.allNames(in: spool.work) == [".lock"] })
        try await running.stop()
        #expect(spool.allNames(in: spool.outbox) == [claim.name])
        #expect(running.spool.statistics.alreadyDelivered == 1)
        #expect(running.spool.statistics.delivered == 0)
    }

    @Test("recovery after a crash between storing and release: one quarantine record, not two")
    func recoveryAfterStoring() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().infected)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let claim = SpoolClaim(id: "abc123-4-w", name: spoolUniqueName("stored.xml"))
        // The first run stored it under the claim id, then died before removing the claim.
        _ = try await filter.decider.decide(IncomingMessage(data: message, source: claim.name, route: nil, transport: "spool", id: claim.id))
        try message.write(to: spool.work.appendingPathComponent(claim.workName))
        let running = try spool.serve(filter)
        #expect(await spoolEventually { spool.allNames(in: spool.work) == [".lock"] })
        try await running.stop()
        #expect(try spool.held(claim.name, in: filter).map(\.id) == [claim.id])
        #expect(spool.allNames(in: spool.outbox).isEmpty)
    }

    @Test("a name already in outbox/ is never overwritten: the new message gets NAME.<claim-id>")
    func duplicateOutboxName() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().clean)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let name = spoolUniqueName("same.xml")
        let earlier = Data("an earlier message the reader has not taken yet".utf8)
        try earlier.write(to: spool.outbox.appendingPathComponent(name))
        let running = try spool.serve(filter)
        try spool.drop(message, as: name)
        #expect(await spoolEventually { spool.names(in: spool.outbox).count == 2 })
        // The same name and the same bytes again: a second message, delivered too.
        try spool.drop(message, as: name)
        #expect(await spoolEventually { spool.names(in: spool.outbox).count == 3 })
        try await running.stop()
        let names = spool.names(in: spool.outbox)
        #expect(try Data(contentsOf: spool.outbox.appendingPathComponent(name)) == earlier)
        for other in names where other != name {
            #expect(other.hasPrefix(name + "."))
            #expect(try Data(contentsOf: spool.outbox.appendingPathComponent(other)) == message)
        }
    }

    @Test("a busy scanning pool: claims wait in work/ and are retried until delivered")
    func busyRetried() async throws {
        let message = try Self.messages.get().clean
        // A pool of one thread and a queue of one, kept full by other clients.
        var configuration = Configuration()
        let state = try spoolTemporaryDirectory("spool-busy-state")
        defer { try? FileManager.default.removeItem(at: state) }
        configuration.service.state = state.path
        configuration.service.threads = 1
        configuration.service.queue = 1
        // Every message here carries the same bytes: with the verdict cache they would never reach the pool.
        configuration.service.cache.entries = 0
        let filter = try FilterService(configuration: configuration, logger: spoolLogger("busy"))
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let running = try spool.serve(filter) { $0.threads = 1; $0.queue = 1 }
        // The flood: six clients on threads of their own (never starved by Swift's cooperative pool when
        // other tests run beside this one), each sending a megabyte of opaque bytes (milliseconds of ClamAV
        // a scan), so that the one thread stays busy and the one queue place is taken again at once.
        var generator = SystemRandomNumberGenerator()
        let heavy = Data("KRDBLOB\0".utf8) + Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let flooding = Mutex(true)
        let flooders = DispatchGroup()
        for _ in 0..<6 {
            flooders.enter()
            Thread {
                while flooding.withLock({ $0 }) {
                    // A client that, told "busy", tries again a few milliseconds later.
                    let flood = IncomingMessage(data: heavy, source: "flood", route: nil, transport: "test")
                    if (try? filter.decider.decideAll([flood])[0].get().recorded()) == nil {
                        Thread.sleep(forTimeInterval: 0.005)
                    }
                }
                flooders.leave()
            }.start()
        }
        while filter.decider.queueDepth == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let names = (0..<8).map { spoolUniqueName("busy-\($0).xml") }
        for name in names { try spool.drop(message, as: name) }
        let delivered = await spoolEventually(timeout: .seconds(40)) { spool.names(in: spool.outbox).count == names.count }
        flooding.withLock { $0 = false }
        await withCheckedContinuation { continuation in flooders.notify(queue: .global()) { continuation.resume() } }
        try await running.stop()
        #expect(delivered)
        #expect(spool.names(in: spool.outbox) == names.sorted())
        #expect(running.spool.statistics.retries > 0, "the pool was never busy: the test did not test anything")
        #expect(spool.allNames(in: spool.work) == [".lock"])
        _ = await filter.shutdown(grace: .seconds(5))
    }

    @Test("one process per spool: a second service on the same root is refused")
    func oneProcessPerSpool() async throws {
        let filter = try spoolSharedFilter.get()
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let first = try SpoolService(service: filter, configuration: spool.settings(), logger: spoolLogger("t"))
        #expect {
            try SpoolService(service: filter, configuration: spool.settings(), logger: spoolLogger("t"))
        } throws: { ($0 as? KordonError)?.code == "spool.locked" }
        first.directories.release()
        _ = try SpoolService(service: filter, configuration: spool.settings(), logger: spoolLogger("t"))
    }

    @Test("a spool on tmpfs or ramfs is known as such (the service warns); one in the repository's checkout is not",
          .enabled(if: FileManager.default.fileExists(atPath: memoryDirectory.path)))
    func memoryFileSystem() throws {
        let inMemory = try SpoolTestRoot(under: memoryDirectory)
        defer { inMemory.remove() }
        #expect(try SpoolDirectories(root: inMemory.root).volatileFileSystem == "tmpfs")
        let onDisk = try SpoolTestRoot(under: repositoryRoot.appendingPathComponent(".build"))
        defer { onDisk.remove() }
        #expect(try SpoolDirectories(root: onDisk.root).volatileFileSystem == nil)
    }

    @Test("libclamav's scratch directory: scan.temporaryDirectory, else TMPDIR; compared with the spool's file system")
    func scratchDirectory() throws {
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let directories = try SpoolDirectories(root: spool.root)
        #expect(directories.sharesFileSystem(with: spool.root.deletingLastPathComponent().path))
        #expect(!directories.sharesFileSystem(with: "/proc"))
        #expect(!directories.sharesFileSystem(with: "/nonexistent"))
        var configuration = Configuration()
        configuration.scan.temporaryDirectory = "/srv/scratch"
        #expect(SpoolFileSystemAdvice.scratchDirectory(configuration) == "/srv/scratch")
        configuration.scan.temporaryDirectory = nil
        #expect(SpoolFileSystemAdvice.scratchDirectory(configuration) == ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
    }

    @Test("a claimed file is read only up to the size limit: beyond it, nothing is kept in memory")
    func readUpToTheLimit() throws {
        let directory = try spoolTemporaryDirectory("read-limit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("m")
        try Data(repeating: 0x41, count: 70_000).write(to: file)
        guard case .tooLarge = try SpoolFiles.readRegular(file.path, limit: 65_536) else {
            Issue.record("a 70,000-byte file under a 65,536-byte limit was read")
            return
        }
        guard case .bytes(let data) = try SpoolFiles.readRegular(file.path, limit: 70_000) else {
            Issue.record("a file at the limit was not read")
            return
        }
        #expect(data.count == 70_000)
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: file)
        guard case .notRegular = try SpoolFiles.readRegular(link.path, limit: 1 << 20) else {
            Issue.record("a symlink was followed")
            return
        }
    }

    @Test("a symlink dropped into inbox/ is not followed")
    func symlinkNotFollowed() async throws {
        let (filter, message) = (try spoolSharedFilter.get(), try Self.messages.get().clean)
        let spool = try SpoolTestRoot()
        defer { spool.remove() }
        let target = spool.root.appendingPathComponent("secret.xml")
        try message.write(to: target)
        let running = try spool.serve(filter)
        let name = spoolUniqueName("link.xml")
        try FileManager.default.createSymbolicLink(at: spool.inbox.appendingPathComponent(name), withDestinationURL: target)
        try await Task.sleep(for: .milliseconds(1500))
        try await running.stop()
        #expect(spool.allNames(in: spool.outbox).isEmpty)
        #expect(spool.allNames(in: spool.inbox) == [name])
    }

    @Test("claim ids are unique and claim names round-trip through work/")
    func claimNames() {
        let claims = (0..<10_000).map { _ in SpoolClaim(name: "a~b.xml") }
        #expect(Set(claims.map(\.id)).count == claims.count)
        #expect(claims.allSatisfy { SpoolClaim(workName: $0.workName) == $0 })
        #expect(claims.allSatisfy { SpoolClaim.id(ofTemporary: $0.temporaryName) == $0.id })
        #expect(claims.allSatisfy { $0.id.utf8.count <= 24 })
        #expect(SpoolClaim(workName: "no-separator") == nil)
        #expect(SpoolClaim(workName: "UPPER~name") == nil)
        #expect(SpoolClaim(workName: "id~") == nil)
    }

    @Test("inotify records are decoded: names, NUL padding, overflow")
    func inotifyRecords() {
        func record(mask: UInt32, name: String, padded: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            for field in [UInt32(1), mask, 0, UInt32(padded)] { withUnsafeBytes(of: field) { bytes += $0 } }
            return bytes + Array(name.utf8) + [UInt8](repeating: 0, count: padded - name.utf8.count)
        }
        let bytes = record(mask: UInt32(IN_MOVED_TO), name: "a.xml", padded: 16)
            + record(mask: UInt32(IN_CLOSE_WRITE), name: "заявка.xml", padded: 32)
            + record(mask: UInt32(IN_Q_OVERFLOW), name: "", padded: 0)
        #expect(InotifyReader.parse(bytes[...]) == InotifyReader.Events(names: ["a.xml", "заявка.xml"], overflowed: true))
        #expect(InotifyReader.parse(record(mask: UInt32(IN_MOVED_TO), name: "b", padded: 16)[...]).overflowed == false)
    }
}
