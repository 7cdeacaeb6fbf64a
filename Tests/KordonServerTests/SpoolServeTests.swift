import Foundation
import KordonTestSupport
import KordonCore
import KordonCrypto
import KordonStore
import Testing

/// One `kordon serve` process; its stderr is appended to `log`.
final class SpoolServer {
    let process = Process()

    init(config: URL, log: URL) throws {
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.executableURL = try kordonBinary()
        process.arguments = ["serve", "--config", config.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(_ signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A spool served by the real binary, with a configuration file.
struct SpoolServeSetup {
    let directory: URL
    var spool: SpoolTestRoot
    var config: URL { directory.appendingPathComponent("kordon.yaml") }
    var log: URL { directory.appendingPathComponent("serve.log") }
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// A configuration serving a new spool root under `spoolParent`, with `extra` top-level YAML.
    init(spoolParent: URL = FileManager.default.temporaryDirectory, extra: String = "") throws {
        directory = try spoolTemporaryDirectory("serve")
        spool = try SpoolTestRoot(under: spoolParent)
        let yaml = """
        \(extra)
        state: \(directory.appendingPathComponent("state").path)
        serve:
          gracePeriodSeconds: 10
          spool:
            root: \(spool.root.path)
            rescanSeconds: 1
        """
        try Data(yaml.utf8).write(to: config)
    }

    /// The quarantine store `kordon serve` used (read once the server has stopped).
    func store() throws -> QuarantineStore {
        try QuarantineStore(directory: spool.root.appendingPathComponent("quarantine"),
                            keyFile: directory.appendingPathComponent("state/keys/quarantine.key").path)
    }

    /// How many times the log says the spool started.
    var starts: Int { logText.components(separatedBy: "spool started").count - 1 }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
        try? FileManager.default.removeItem(at: spool.root)
    }
}

/// `kordon serve` as operators run it: the crash guarantee, signals, start-up errors.
@Suite("kordon serve", .serialized, .timeLimit(.minutes(10)))
struct SpoolServeTests {
    @Test("1,000 messages, SIGKILL five times at random moments: each ends exactly once in outbox/ or quarantine")
    func crashSafety() async throws {
        // The order of the messages and the kill moments come from one seed, printed with
        // every result; KORDON_KILL_SEED=N replays a run.
        let seed = ProcessInfo.processInfo.environment["KORDON_KILL_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        var random = SeededRandom(seed: seed)
        print("spool crash test: seed \(seed) (KORDON_KILL_SEED=\(seed) replays it)")
        let setup = try SpoolServeSetup()
        defer { setup.remove() }
        let spool = setup.spool
        // 700 clean, 200 infected (EICAR base64 inside an element), 100 sanitized (a person's IIN).
        var messages: [(name: String, data: Data, kind: Verdict)] = []
        for (index, data) in try spoolDeclarations(count: 700, seed: 21).enumerated() { messages.append(("c-\(index).xml", data, .clean)) }
        for (index, data) in try spoolDeclarations(count: 200, seed: 22, embedding: eicar).enumerated() { messages.append(("v-\(index).xml", data, .quarantined)) }
        for (index, data) in try spoolDeclarations(count: 100, seed: 23, restricted: true).enumerated() { messages.append(("s-\(index).xml", data, .sanitized)) }
        messages.shuffle(using: &random)
        let started = ContinuousClock.now
        var server = try SpoolServer(config: setup.config, log: setup.log)

        // The writer: a partial name, then a rename, as the spool's writers must.
        let writer = Thread { [messages] in
            for (index, message) in messages.enumerated() {
                try? spool.drop(message.data, as: message.name)
                if index % 20 == 19 { Thread.sleep(forTimeInterval: 0.15) }
            }
        }
        writer.start()

        // Five kills, each at a random moment after that run's spool has started working.
        var kills: [String] = []
        for run in 1...5 {
            #expect(await spoolEventually(timeout: .seconds(60)) { setup.starts >= run }, "run \(run) did not start")
            let delay = Double.random(in: 0.05...2.5, using: &random)
            try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            let inWork = spool.allNames(in: spool.work).count - 1
            server.stop(SIGKILL)
            kills.append(String(format: "%.2fs after start %d (%d in work/)", delay, run, inWork))
            server = try SpoolServer(config: setup.config, log: setup.log)
        }
        let finished = await spoolEventually(timeout: .seconds(120)) {
            writer.isFinished && spool.allNames(in: spool.inbox).isEmpty && spool.allNames(in: spool.work) == [".lock"]
        }
        #expect(finished, "inbox/ and work/ did not empty")
        #expect(server.stop(SIGTERM) == 0)
        let elapsed = ContinuousClock.now - started

        // Account for every message, by name.
        let records = try setup.store().list()
        let bySource = Dictionary(grouping: records, by: \.source)
        let outbox = spool.allNames(in: spool.outbox)
        var outboxCount: [String: Int] = [:]
        for file in outbox {
            // NAME, or NAME.<claim-id> when NAME was taken.
            let name = file.components(separatedBy: ".xml")[0] + ".xml"
            outboxCount[name, default: 0] += 1
        }
        var problems: [String] = []
        for message in messages {
            let out = outboxCount[message.name] ?? 0
            let held = bySource[message.name] ?? []
            switch message.kind {
            case .clean:
                if out != 1 || !held.isEmpty { problems.append("\(message.name): \(out) in outbox, \(held.count) held") }
                else if (try? Data(contentsOf: spool.outbox.appendingPathComponent(message.name))) != message.data {
                    problems.append("\(message.name): outbox copy differs")
                }
            case .quarantined:
                if out != 0 || held.count != 1 || held.first?.verdict != .quarantined {
                    problems.append("\(message.name) (infected): \(out) in outbox, \(held.count) held")
                }
            case .sanitized:
                if out != 1 || held.count != 1 || held.first?.verdict != .sanitized {
                    problems.append("\(message.name) (sanitized): \(out) in outbox, \(held.count) held")
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) messages not accounted for exactly once (KORDON_KILL_SEED=\(seed)): \(problems.prefix(10))")
        #expect(outbox.count == 800, "outbox/ holds exactly the 700 clean and 100 sanitized messages")
        #expect(records.count == 300, "quarantine holds exactly the 200 infected and the 100 sanitized originals")
        #expect(!outbox.contains { $0.hasPrefix(".") }, "no temporary file stays in outbox/")
        let log = setup.logText
        let redone = log.components(separatedBy: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "redo=") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        let alreadyDelivered = log.components(separatedBy: "already delivered before the restart").count - 1
        print("spool crash test (seed \(seed)): \(messages.count) messages in \(elapsed); SIGKILL at \(kills.joined(separator: "; ")); claims redone per start \(redone); \(alreadyDelivered) found already delivered")
    }

    @Test("SIGHUP reloads and the spool keeps serving; SIGTERM stops with exit 0")
    func signals() async throws {
        let setup = try SpoolServeSetup()
        defer { setup.remove() }
        let message = try spoolDeclarations(count: 1, seed: 31)[0]
        let server = try SpoolServer(config: setup.config, log: setup.log)
        #expect(await spoolEventually { setup.starts == 1 })
        try setup.spool.drop(message, as: "before.xml")
        #expect(await spoolEventually { setup.spool.names(in: setup.spool.outbox) == ["before.xml"] })
        kill(server.process.processIdentifier, SIGHUP)
        #expect(await spoolEventually { setup.logText.contains("reloaded") }, "\(setup.logText)")
        try setup.spool.drop(message, as: "after.xml")
        #expect(await spoolEventually { setup.spool.names(in: setup.spool.outbox) == ["after.xml", "before.xml"] })
        #expect(server.stop(SIGTERM) == 0)
        #expect(setup.logText.contains("spool stopped"))
        #expect(setup.logText.contains("kordon serve stopped"))
    }

    @Test("a spool on tmpfs is served, with a warning that a reboot loses its messages",
          .enabled(if: FileManager.default.fileExists(atPath: memoryDirectory.path)))
    func spoolOnTmpfs() async throws {
        let setup = try SpoolServeSetup(spoolParent: memoryDirectory)
        defer { setup.remove() }
        let server = try SpoolServer(config: setup.config, log: setup.log)
        #expect(await spoolEventually { setup.starts == 1 })
        try setup.spool.drop(try spoolDeclarations(count: 1, seed: 32)[0], as: "in-memory.xml")
        #expect(await spoolEventually { setup.spool.names(in: setup.spool.outbox) == ["in-memory.xml"] })
        #expect(server.stop(SIGTERM) == 0)
        #expect(setup.logText.contains("the spool is on tmpfs: its messages are lost at a reboot or power failure"), "\(setup.logText)")
    }

    @Test("a file over limits.maxMessageSize is held without being read into memory; show --raw and release --force give it back whole; smaller files go in groups under the limit")
    func oversizedMessage() async throws {
        let setup = try SpoolServeSetup(extra: "limits:\n  maxMessageSize: 65536")
        defer { setup.remove() }
        let large = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 13) })
        try setup.spool.drop(large, as: "large.bin")
        try setup.spool.drop(try spoolDeclarations(count: 1, seed: 33)[0], as: "small.xml")
        // Twelve files of 20 KB, all there before the start, so that workers take batches
        // of eight: over the limit together, a batch is filtered a few at a time.
        var medium: [String: Data] = [:]
        for index in 0..<12 {
            let name = "medium-\(index).bin"
            medium[name] = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* (index + 3) &+ index) })
            try setup.spool.drop(medium[name]!, as: name)
        }
        let server = try SpoolServer(config: setup.config, log: setup.log)
        #expect(await spoolEventually { setup.starts == 1 })
        let expected = (["small.xml"] + medium.keys).sorted()
        #expect(await spoolEventually {
            setup.spool.names(in: setup.spool.outbox) == expected && setup.spool.allNames(in: setup.spool.work) == [".lock"]
        }, "\(setup.logText)")
        for (name, data) in medium {
            #expect(try Data(contentsOf: setup.spool.outbox.appendingPathComponent(name)) == data, "\(name)")
        }
        #expect(server.stop(SIGTERM) == 0)

        let record = try #require(try setup.store().list().first { $0.source == "large.bin" })
        #expect(record.verdict == .quarantined && record.reasons == ["kordon.message-size"])
        #expect(try record.size == large.count && record.sha256 == SHA256Digest.hex(large))
        let kordon = try kordonBinary().path
        let shown = try await httpRun(kordon, ["quarantine", "show", record.id, "--raw", "--config", setup.config.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout == large)
        let refused = try await httpRun(kordon, ["quarantine", "release", record.id, "--config", setup.config.path])
        #expect(refused.status == 1)
        let target = setup.directory.appendingPathComponent("released.bin")
        let released = try await httpRun(kordon, ["quarantine", "release", record.id, "--force", "--reason", "test of a large original",
                                                  "--output", target.path, "--config", setup.config.path])
        #expect(released.status == 0, "\(released.stderr)")
        #expect(try Data(contentsOf: target) == large)
        // The hold, the raw view, the refusal and the release are all in an unbroken audit chain.
        let verified = try await httpRun(kordon, ["audit", "verify", "--config", setup.config.path])
        #expect(verified.status == 0, "\(String(decoding: verified.stdout, as: UTF8.self))\(verified.stderr)")
        let log = try String(contentsOf: setup.directory.appendingPathComponent("state/audit.log"), encoding: .utf8)
        for event in ["show-raw", "release-refused", "release"] { #expect(log.contains("\"event\":\"\(event)\""), "\(event)") }
    }

    @Test("libclamav's scratch on the spool's disk: a notice at start to move it to tmpfs; on tmpfs, none")
    func scratchOnSpoolDisk() async throws {
        // The checkout is on a disk; the scratch directory sits beside the spool on it.
        let disk = repositoryRoot.appendingPathComponent(".build")
        let scratch = try spoolTemporaryDirectory("scratch", under: disk)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let notice = "libclamav's scratch directory \(scratch.path) is on the spool's file system"
        for (scratchPath, expected) in [(scratch.path, true), (memoryDirectory.path, false)] {
            let setup = try SpoolServeSetup(spoolParent: disk, extra: "scan:\n  temporaryDirectory: \(scratchPath)")
            defer { setup.remove() }
            let server = try SpoolServer(config: setup.config, log: setup.log)
            #expect(await spoolEventually { setup.starts == 1 })
            #expect(server.stop(SIGTERM) == 0)
            #expect(setup.logText.contains(notice) == expected, "\(setup.logText)")
            #expect(!setup.logText.contains("lost at a reboot"), "\(setup.logText)")
        }
    }

    @Test("start-up failures are one line on stderr and exit 2")
    func startupFailures() async throws {
        let setup = try SpoolServeSetup()
        defer { setup.remove() }
        let nothing = setup.directory.appendingPathComponent("nothing.yaml")
        try Data("state: \(setup.directory.path)/state\n".utf8).write(to: nothing)
        for arguments in [["serve", "--config", nothing.path], ["serve", "--config", "/nonexistent/kordon.yaml"]] {
            let process = Process()
            process.executableURL = try kordonBinary()
            process.arguments = arguments
            let errors = setup.directory.appendingPathComponent("stderr")
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            let text = try String(contentsOf: errors, encoding: .utf8)
            #expect(process.terminationStatus == 2)
            #expect(text.hasPrefix("kordon: ") && text.split(separator: "\n").count == 1, "\(text)")
        }
        // A spool another process serves is refused.
        let first = try SpoolServer(config: setup.config, log: setup.log)
        defer { first.stop(SIGTERM) }
        #expect(await spoolEventually { setup.starts == 1 })
        let second = Process()
        second.executableURL = try kordonBinary()
        second.arguments = ["serve", "--config", setup.config.path]
        let errors = setup.directory.appendingPathComponent("stderr2")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        second.standardError = try FileHandle(forWritingTo: errors)
        try second.run()
        second.waitUntilExit()
        #expect(second.terminationStatus == 2)
        #expect(try String(contentsOf: errors, encoding: .utf8).contains("spool.locked"))
    }
}

/// SplitMix64: a small generator whose whole run follows from its seed, so that a
/// failing crash test can be replayed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
