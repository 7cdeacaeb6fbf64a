import Foundation
import KordonTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kordon
import KordonCore
import KordonServer
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// A clean, schema-valid declaration with two base64 attachments.
func httpCleanDeclaration() throws -> Data {
    try Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/clean/declaration-attachments.xml"))
}

/// The clean declaration with its PNG attachment replaced by EICAR, base64-encoded.
func httpInfectedDeclaration() throws -> Data {
    let text = String(decoding: try httpCleanDeclaration(), as: UTF8.self)
    let start = try #require(text.range(of: "<Content mediaType=\"image/png\">"))
    let end = try #require(text.range(of: "</Content>", range: start.upperBound..<text.endIndex))
    return Data((text[..<start.upperBound] + "\n" + eicar.base64EncodedString() + "\n      " + text[end.lowerBound...]).utf8)
}

/// The clean declaration grown to at least `bytes` with XML comments (still clean and valid).
func httpLargeDeclaration(bytes: Int) throws -> Data {
    let text = String(decoding: try httpCleanDeclaration(), as: UTF8.self)
    let line = "<!-- " + String(repeating: "padding ", count: 12) + "-->\n"
    let padding = String(repeating: line, count: max(0, bytes - text.utf8.count) / line.utf8.count + 1)
    let close = try #require(text.range(of: "</GoodsDeclaration>", options: .backwards))
    return Data((text[..<close.lowerBound] + padding + text[close.lowerBound...]).utf8)
}

/// A restricted-data fixture.
func httpRestrictedFixture(_ name: String) throws -> Data {
    try Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/restricted/\(name)"))
}

/// A running `FilterService` + `HTTPService` on 127.0.0.1 and a port the system chose.
final class HTTPTestServer: Sendable {
    let filter: FilterService
    let port: Int
    let scheme: String
    let directory: URL
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    /// The URL of `path` (with its query) on this server.
    func url(_ path: String) -> URL { URL(string: "\(scheme)://127.0.0.1:\(port)\(path)")! }

    /// Starts a server; `adjust` changes the configuration first (state, keys and
    /// listen address are set to private temporary places).
    static func start(_ adjust: (inout Configuration, URL) throws -> Void = { _, _ in }) async throws -> HTTPTestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration(resources: ResourceLocator.locate(environment: ["KORDON_HOME": repositoryRoot.path]))
        configuration.signatures.system = false
        configuration.rules.pseudonymKeyFile = directory.appendingPathComponent("pseudonym.key").path
        configuration.service.state = directory.path
        configuration.service.threads = 2
        configuration.service.http.listen = "127.0.0.1:0"
        try adjust(&configuration, directory)
        let logger = {
            var logger = Logger(label: "kordon.http.test")
            logger.logLevel = .critical  // expected errors (a failed reload) stay out of the test output
            return logger
        }()
        // Loading engines takes seconds of CPU: on its own thread, not Swift's few cooperative ones.
        let loading = configuration
        let filter: FilterService = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try FilterService(configuration: loading, logger: logger) }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let http: HTTPService
        do {
            http = try HTTPService(service: filter, configuration: configuration.service, logger: logger) { port in
                continuation.yield(port)
                continuation.finish()
            }
        } catch {
            _ = await filter.shutdown(grace: .seconds(1))
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        let group = ServiceGroup(configuration: .init(services: [http], logger: logger))
        let task = Task {
            defer { continuation.finish() }  // a listener that fails to bind ends the wait below
            try await group.run()
        }
        guard let port = await ports.first(where: { _ in true }) else {
            _ = await filter.shutdown(grace: .seconds(1))
            try? FileManager.default.removeItem(at: directory)
            throw KordonError(code: "test.http", message: "the HTTP service did not start: \(String(describing: await task.result))")
        }
        return HTTPTestServer(filter: filter, port: port, scheme: configuration.service.tls == nil ? "http" : "https",
                              directory: directory, group: group, task: task)
    }

    private init(filter: FilterService, port: Int, scheme: String, directory: URL, group: ServiceGroup, task: Task<Void, Error>) {
        self.filter = filter
        self.port = port
        self.scheme = scheme
        self.directory = directory
        self.group = group
        self.task = task
    }

    /// Starts a graceful shutdown of the listener without waiting for it.
    func beginShutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Shuts the listener down gracefully, stops the scanning threads and removes the state.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        _ = await filter.shutdown(grace: .seconds(5))
        try? FileManager.default.removeItem(at: directory)
    }
}

/// One server with the default test configuration, shared by the tests that do not
/// change it or count its metrics: loading engines costs seconds, so each load counts.
/// It runs until the test process ends; its state directory is removed then.
actor HTTPSharedServer {
    static let shared = HTTPSharedServer()
    private var starting: Task<HTTPTestServer, Error>?

    /// The server, started on first use.
    static func get() async throws -> HTTPTestServer { try await shared.server() }

    private func server() async throws -> HTTPTestServer {
        if let starting { return try await starting.value }
        let task = Task { try await HTTPTestServer.start() }
        starting = task
        let server = try await task.value
        httpSharedDirectory.withLock { $0 = server.directory.path }
        atexit {
            if let path = httpSharedDirectory.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
        }
        return server
    }
}

/// The shared server's state directory, for the exit handler (which cannot capture).
private let httpSharedDirectory = Mutex<String?>(nil)

/// One HTTP answer.
struct HTTPTestAnswer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data

    /// A header, by case-insensitive name.
    func header(_ name: String) -> String? {
        headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The body as a report.
    func report() throws -> Report { try JSONDecoder().decode(Report.self, from: body) }

    /// The body as a JSON object.
    func object() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    /// The body as text.
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A URLSession without caches or cookies.
let httpSession: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 60
    configuration.httpMaximumConnectionsPerHost = 64
    return URLSession(configuration: configuration)
}()

/// Sends one request and returns the answer.
func httpSend(_ url: URL, method: String = "POST", body: Data? = nil, headers: [String: String] = [:],
              bodyStream: InputStream? = nil) async throws -> HTTPTestAnswer {
    var request = URLRequest(url: url)
    request.httpMethod = method
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    if let bodyStream { request.httpBodyStream = bodyStream } else if let body { request.httpBody = body }
    let (data, response) = try await httpSession.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    var fields: [String: String] = [:]
    for (name, value) in http.allHeaderFields {
        if let name = name as? String, let value = value as? String { fields[name] = value }
    }
    return HTTPTestAnswer(status: http.statusCode, headers: fields, body: data)
}

/// Writes `text` to a new file in `directory`.
func httpWrite(_ text: String, to name: String, in directory: URL) throws -> String {
    let file = directory.appendingPathComponent(name)
    try text.write(to: file, atomically: true, encoding: .utf8)
    return file.path
}

/// Runs a program to completion without blocking a Swift concurrency thread;
/// output goes through files so a chatty child never blocks on a full pipe.
func httpRun(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, stdout: Data, stderr: String) {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-http-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
    try Data().write(to: out)
    try Data().write(to: err)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return (status, try Data(contentsOf: out), String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

/// The entries of `filter`'s audit log, in order (each line's `entry` object).
func auditEntries(of filter: FilterService) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: filter.configuration.service.effectiveAuditFile, encoding: .utf8)
    return try text.split(separator: "\n").map { line in
        let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return try #require(record?["entry"] as? [String: Any])
    }
}
