import Foundation
import KordonTestSupport
import Kordon
import KordonCore
import KordonServer
import KordonStore
import Logging
import ServiceLifecycle
import Testing

/// A fresh temporary directory (under `parent`, by default the temporary directory).
func spoolTemporaryDirectory(_ name: String, under parent: URL = FileManager.default.temporaryDirectory) throws -> URL {
    let url = parent.appendingPathComponent("kordon-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Schema-valid goods declarations from `fixtures/make-corpus.py`, in order: with
/// `embedding`, each carries it base64-encoded as its attachment; with `restricted`,
/// each names a person (the rule packs mask it: sanitized).
func spoolDeclarations(count: Int, seed: Int, embedding: Data? = nil, restricted: Bool = false) throws -> [Data] {
    let directory = try spoolTemporaryDirectory("spool-corpus")
    defer { try? FileManager.default.removeItem(at: directory) }
    var arguments = [repositoryRoot.appendingPathComponent("fixtures/make-corpus.py").path, directory.appendingPathComponent("out").path,
                     "--count", "\(count)", "--format", "xml", "--seed", "\(seed)", "--attachment-size", "600"]
    if let embedding {
        let payload = directory.appendingPathComponent("payload.bin")
        try embedding.write(to: payload)
        arguments += ["--embed", payload.path]
    }
    if restricted { arguments.append("--restricted") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "make-corpus.py failed")
    let out = directory.appendingPathComponent("out")
    return try FileManager.default.contentsOfDirectory(atPath: out.path).sorted().map { try Data(contentsOf: out.appendingPathComponent($0)) }
}

/// One FilterService for all in-process spool tests: loading the engines takes seconds.
/// Its quarantine store and audit log live in a temporary state directory; tests tell
/// their messages apart by unique names.
let spoolSharedFilter: Result<FilterService, any Error> = Result {
    var configuration = Configuration()
    configuration.service.state = try spoolTemporaryDirectory("spool-state").path
    configuration.service.threads = 2
    return try FilterService(configuration: configuration, logger: spoolLogger("spool-tests"))
}

/// A spool root for one test, and the means to serve it in-process.
struct SpoolTestRoot {
    let root: URL
    var inbox: URL { root.appendingPathComponent("inbox") }
    var outbox: URL { root.appendingPathComponent("outbox") }
    var work: URL { root.appendingPathComponent("work") }

    init(under parent: URL = FileManager.default.temporaryDirectory) throws {
        root = try spoolTemporaryDirectory("spool", under: parent)
        for directory in [inbox, outbox, work] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    /// Deletes the root and everything in it.
    func remove() { try? FileManager.default.removeItem(at: root) }

    /// Service settings for this root: fast rescans for tests.
    func settings(_ adjust: (inout ServiceConfiguration) -> Void = { _ in }) -> ServiceConfiguration {
        var settings = ServiceConfiguration()
        settings.spool.root = root.path
        settings.spool.rescanSeconds = 1
        settings.threads = 2
        adjust(&settings)
        return settings
    }

    /// Writes a message the way a well-behaved writer does: a partial name, then a rename.
    func drop(_ data: Data, as name: String) throws {
        let partial = inbox.appendingPathComponent(name + ".tmp")
        try data.write(to: partial)
        try FileManager.default.moveItem(at: partial, to: inbox.appendingPathComponent(name))
    }

    /// Names in a directory, without dot files.
    func names(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Every name in a directory, dot files included.
    func allNames(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    /// The quarantine records whose source is `name`.
    func held(_ name: String, in filter: FilterService) throws -> [QuarantineRecord] {
        try filter.store.list().filter { $0.source == name }
    }

    /// Starts a SpoolService on this root in a ServiceGroup.
    func serve(_ filter: FilterService, _ adjust: (inout ServiceConfiguration) -> Void = { _ in }) throws -> SpoolRunning {
        let spool = try SpoolService(service: filter, configuration: settings(adjust), logger: spoolLogger("spool-test"))
        return SpoolRunning(spool: spool)
    }
}

/// An in-process spool service and its group.
final class SpoolRunning: Sendable {
    let spool: SpoolService
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(spool: SpoolService) {
        self.spool = spool
        let group = ServiceGroup(configuration: .init(services: [spool], logger: spoolLogger("spool-test-group")))
        self.group = group
        task = Task { try await group.run() }
    }

    /// Graceful shutdown: stops taking, finishes what is in flight.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func spoolEventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try condition()
}

/// A logger for tests: warnings and errors only.
func spoolLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}

/// A short unique prefix, so tests sharing the quarantine store never see each other's messages.
func spoolUniqueName(_ base: String) -> String { "\(UUID().uuidString.prefix(8).lowercased())-\(base)" }

/// `/dev/shm`, where Linux keeps a tmpfs: a spool on a file system that a reboot empties.
let memoryDirectory = URL(fileURLWithPath: "/dev/shm")
