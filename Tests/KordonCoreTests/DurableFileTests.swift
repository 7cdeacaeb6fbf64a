import Foundation
import KordonCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Durable files and interrupted system calls", .timeLimit(.minutes(10)))
struct DurableFileTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-durable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("a replacing write leaves the whole new file with the mode asked for, whatever the umask, and no temporary")
    func replacingWrite() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let target = root.appendingPathComponent("state.json")
        try DurableFile.write(Data("old".utf8), to: target, mode: 0o644)
        let previous = umask(0o077)
        defer { umask(previous) }
        try DurableFile.write(Data("new contents".utf8), to: target, mode: 0o640)
        #expect(try Data(contentsOf: target) == Data("new contents".utf8))
        var info = stat()
        #expect(stat(target.path, &info) == 0 && info.st_mode & 0o777 == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["state.json"])
    }

    @Test("a write relative to an open directory lands in that directory even when its path is moved meanwhile")
    func writeStaysInTheOpenedDirectory() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checked = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: checked, withIntermediateDirectories: false)
        let descriptor = open(checked.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        // Someone moves the checked directory away and puts another in its place.
        let moved = root.appendingPathComponent("moved")
        #expect(rename(checked.path, moved.path) == 0)
        try FileManager.default.createDirectory(at: checked, withIntermediateDirectories: false)
        try DurableFile.write(named: "entry", in: descriptor, directoryPath: checked.path) { fd in
            try DurableFile.writeAll(fd, Data("cached".utf8), what: "entry")
        }
        #expect(try Data(contentsOf: moved.appendingPathComponent("entry")) == Data("cached".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: checked.path) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: moved.path) == ["entry"])
    }

    @Test("what the contents closure throws leaves neither the file nor a temporary")
    func failedContentsLeaveNothing() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        struct Abandoned: Error {}
        #expect(throws: Abandoned.self) {
            try DurableFile.write(to: root.appendingPathComponent("half")) { fd in
                try DurableFile.writeAll(fd, Data("half".utf8), what: "half")
                throw Abandoned()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == [])
    }

    @Test("retryingInterrupts calls again after EINTR and throws any other errno")
    func retryingInterrupts() throws {
        var calls = 0
        let result = try FileDescriptorIO.retryingInterrupts { () -> Int in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42 && calls == 3)
        let failure = #expect(throws: FileDescriptorIO.Failure.self) {
            _ = try FileDescriptorIO.retryingInterrupts { () -> Int32 in
                errno = EBADF
                return -1
            }
        }
        #expect(failure?.code == EBADF)
    }

    @Test("a read interrupted by signals (no SA_RESTART) still returns every byte written")
    func readSurvivesSignals() async throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0  // no SA_RESTART: a blocked read() returns EINTR
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        #expect(sigaction(SIGUSR2, &action, &previous) == 0)
        defer { sigaction(SIGUSR2, &previous, nil) }
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let reader = ends[0]
        let box = ReaderBox()
        Thread {
            box.started(pthread_self())
            var buffer = [UInt8](repeating: 0, count: 8)
            box.finish(Result { () throws -> Int in
                try buffer.withUnsafeMutableBytes { raw in try FileDescriptorIO.read(reader, into: raw.baseAddress!, count: 8) }
            })
        }.start()
        let thread = try await box.thread()
        for _ in 0..<5 {
            try await Task.sleep(for: .milliseconds(20))
            #expect(pthread_kill(thread, SIGUSR2) == 0)
        }
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(bytes.withUnsafeBytes { write(ends[1], $0.baseAddress, 4) } == 4)
        try await Task.sleep(for: .milliseconds(20))
        #expect(pthread_kill(thread, SIGUSR2) == 0)
        #expect(bytes.withUnsafeBytes { write(ends[1], $0.baseAddress! + 4, 4) } == 4)
        close(ends[1])
        #expect(try await box.result() == 8)
    }
}

/// The reading thread's id and, once it is done, its result, for the test's task.
private final class ReaderBox: @unchecked Sendable {
    private let lock = NSLock()
    private var id: pthread_t?
    private var outcome: Result<Int, any Error>?

    func started(_ thread: pthread_t) { lock.withLock { id = thread } }

    func finish(_ result: Result<Int, any Error>) { lock.withLock { outcome = result } }

    func thread() async throws -> pthread_t {
        while true {
            if let id = lock.withLock({ id }) { return id }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    func result() async throws -> Int {
        for _ in 0..<2_000 {
            if let found = lock.withLock({ outcome }) { return try found.get() }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()  // the read never returned
    }
}
