import Foundation
import Kordon
import KordonServer
import Logging
import NIOCore
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// A FilterService over a temporary state directory and an ICAPService on 127.0.0.1:0, run
/// in a ServiceGroup as `kordon serve` runs it.
final class ICAPTestServer: Sendable {
    let filter: FilterService
    let icap: ICAPService
    let port: Int
    let state: URL
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    private init(filter: FilterService, icap: ICAPService, port: Int, state: URL, group: ServiceGroup, task: Task<Void, Error>) {
        self.filter = filter
        self.icap = icap
        self.port = port
        self.state = state
        self.group = group
        self.task = task
    }

    /// Starts a server; `configure` adjusts the configuration (limits, queue, ICAP settings);
    /// `bufferBudget` bounds the body bytes all connections hold (the service's default when `nil`).
    static func start(bufferBudget: Int? = nil, _ configure: (inout Configuration) throws -> Void = { _ in }) async throws -> ICAPTestServer {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-icap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.signatures.system = false
        configuration.service.state = state.path
        configuration.service.icap.listen = "127.0.0.1:0"
        configuration.service.gracePeriodSeconds = 10
        try configure(&configuration)
        var logger = Logger(label: "kordon.icap.test")
        logger.logLevel = .warning
        let filter = try FilterService(configuration: configuration, logger: logger)
        let icap = ICAPService(service: filter, configuration: configuration.service, logger: logger, bufferBudget: bufferBudget)
        let group = ServiceGroup(configuration: .init(services: [icap], logger: logger))
        let task = Task { try await group.run() }
        let address = try await icap.boundAddress()
        return ICAPTestServer(filter: filter, icap: icap, port: address.port!, state: state, group: group, task: task)
    }

    /// Graceful shutdown, as SIGTERM does it.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        _ = await filter.shutdown(grace: .seconds(5))
        try? FileManager.default.removeItem(at: state)
    }
}

/// One server with the default configuration, started on first use and shared by the
/// tests that need nothing else (starting one loads the engines: seconds each).
private let icapSharedServer = Task { try await ICAPTestServer.start() }

/// Runs `body` with the shared default server.
func withSharedICAPServer(_ body: (ICAPTestServer) async throws -> Void) async throws {
    try await body(try await icapSharedServer.value)
}

/// Runs `body` with a started server and always stops it.
func withICAPServer(_ configure: (inout Configuration) throws -> Void = { _ in },
                    _ body: (ICAPTestServer) async throws -> Void) async throws {
    let server = try await ICAPTestServer.start(configure)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// Runs blocking socket work on its own thread, never on Swift's cooperative pool
/// (whose few threads the server's own tasks need).
func icapBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// A parsed ICAP response.
struct ICAPTestResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var requestHeader: String?
    var responseHeader: String?
    var body: [UInt8]?

    /// The encapsulated HTTP status code, when a response header came back.
    var httpStatus: Int? {
        responseHeader.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }
    }
    var bodyText: String { String(decoding: body ?? [], as: UTF8.self) }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

struct ICAPTestError: Error, CustomStringConvertible {
    var description: String
}

/// A plain blocking TCP connection speaking ICAP, for edge cases no stock client sends.
final class ICAPTestConnection {
    private let fd: Int32
    private var buffered: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; from `source` (another loopback address, `127.0.0.2`)
    /// when given, so that a test can be several clients.
    init(port: Int, timeout: Double = 15, source: String? = nil) throws {
        // Set up on a local descriptor and stored only once connected: a throw after `fd`
        // is stored runs deinit, whose close would be a second one, and a second close can
        // shut another test's descriptor that reused the number in between.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ICAPTestError(description: "socket failed") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let failure = errno
                close(fd)
                throw ICAPTestError(description: "bind to \(source) failed: errno \(failure)")
            }
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let failure = errno
            close(fd)
            throw ICAPTestError(description: "connect failed: errno \(failure)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw ICAPTestError(description: "send failed: errno \(errno)") }
            offset += written
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads more bytes; false at end of stream. Throws on timeout.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw ICAPTestError(description: "receive timed out or failed: errno \(errno)") }
        if count == 0 { return false }
        buffered += chunk[0..<count]
        return true
    }

    /// Everything until the peer closes.
    func readToEnd() throws -> [UInt8] {
        while try fill() {}
        defer { buffered.removeAll() }
        return buffered
    }

    /// Whether the server closed the connection (reads until end of stream, or throws on timeout).
    func isClosedByServer() -> Bool {
        (try? fill()) == false
    }

    /// Whether nothing arrives within `seconds`.
    func staysSilent(for seconds: Double) -> Bool {
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return buffered.isEmpty && poll(&pollfd, 1, Int32(seconds * 1000)) == 0
    }

    private func readLine() throws -> String {
        while true {
            if let index = buffered.firstIndex(of: 0x0A), index > 0, buffered[index - 1] == 0x0D {
                let line = String(decoding: buffered[0..<(index - 1)], as: UTF8.self)
                buffered.removeFirst(index + 1)
                return line
            }
            guard try fill() else { throw ICAPTestError(description: "connection closed mid-line") }
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        while buffered.count < count {
            guard try fill() else { throw ICAPTestError(description: "connection closed mid-body") }
        }
        defer { buffered.removeFirst(count) }
        return Array(buffered[0..<count])
    }

    /// Reads one ICAP response with its encapsulated sections and chunked body.
    func readResponse() throws -> ICAPTestResponse {
        let statusLine = try readLine()
        let words = statusLine.split(separator: " ")
        guard words.count >= 2, words[0] == "ICAP/1.0", let status = Int(words[1]) else {
            throw ICAPTestError(description: "bad status line \(statusLine)")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw ICAPTestError(description: "bad header \(line)") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var response = ICAPTestResponse(status: status, headers: headers)
        guard status != 100, let encapsulated = headers["encapsulated"] else { return response }
        let entries = encapsulated.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).split(separator: "=") }
        for (index, entry) in entries.enumerated() where entry[0].hasSuffix("-hdr") {
            let length = Int(entries[index + 1][1])! - Int(entry[1])!
            let text = String(decoding: try read(length), as: UTF8.self)
            if entry[0] == "req-hdr" { response.requestHeader = text } else { response.responseHeader = text }
        }
        if let last = entries.last, last[0] == "res-body" || last[0] == "req-body" {
            var body: [UInt8] = []
            while true {
                let line = try readLine()
                let size = Int(line.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16)!
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                body += try read(size)
                _ = try read(2)
            }
            response.body = body
        }
        return response
    }
}

/// Builds ICAP requests byte by byte.
enum ICAPTestRequest {
    static let httpRequest = "GET http://origin.test/files/report.bin?user=42 HTTP/1.1\r\nHost: origin.test\r\n\r\n"

    static func httpResponse(length: Int, contentType: String = "application/octet-stream") -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: \(contentType)\r\nContent-Length: \(length)\r\nETag: \"abc\"\r\n\r\n"
    }

    /// A RESPMOD head (ICAP header and both HTTP headers); the body chunks follow separately.
    static func respmod(port: Int, bodyLength: Int?, service: String = "kordon", headers: [String] = [],
                        responseHeader: String? = nil) -> [UInt8] {
        let request = httpRequest
        let response = responseHeader ?? httpResponse(length: bodyLength ?? 0)
        let body = bodyLength == nil ? "null-body" : "res-body"
        let encapsulated = "req-hdr=0, res-hdr=\(request.utf8.count), \(body)=\(request.utf8.count + response.utf8.count)"
        return head("RESPMOD", port: port, service: service, encapsulated: encapsulated, headers: headers) + Array((request + response).utf8)
    }

    /// A REQMOD head: an upload (`POST`) when `bodyLength` is set, else a `GET`.
    static func reqmod(port: Int, bodyLength: Int?, headers: [String] = []) -> [UInt8] {
        let request = bodyLength.map { "POST http://origin.test/upload HTTP/1.1\r\nHost: origin.test\r\nContent-Type: application/xml\r\nContent-Length: \($0)\r\n\r\n" }
            ?? "GET http://origin.test/ HTTP/1.1\r\nHost: origin.test\r\n\r\n"
        let encapsulated = "req-hdr=0, \(bodyLength == nil ? "null-body" : "req-body")=\(request.utf8.count)"
        return head("REQMOD", port: port, service: "kordon", encapsulated: encapsulated, headers: headers) + Array(request.utf8)
    }

    static func options(port: Int, service: String = "kordon") -> [UInt8] {
        Array("OPTIONS icap://127.0.0.1:\(port)/\(service) ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n".utf8)
    }

    static func head(_ method: String, port: Int, service: String, encapsulated: String, headers: [String]) -> [UInt8] {
        var text = "\(method) icap://127.0.0.1:\(port)/\(service) ICAP/1.0\r\nHost: 127.0.0.1:\(port)\r\nEncapsulated: \(encapsulated)\r\n"
        for header in headers { text += header + "\r\n" }
        return Array((text + "\r\n").utf8)
    }

    /// One chunk.
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        bytes.isEmpty ? [] : Array("\(String(bytes.count, radix: 16))\r\n".utf8) + bytes + [0x0D, 0x0A]
    }

    /// The body as chunks of at most `size` bytes, then the last chunk (`ieof` when asked).
    static func chunked(_ bytes: [UInt8], size: Int = 8192, ieof: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            out += chunk(Array(bytes[offset..<min(bytes.count, offset + size)]))
            offset += size
        }
        return out + Array((ieof ? "0; ieof\r\n\r\n" : "0\r\n\r\n").utf8)
    }
}

/// Deterministic pseudo-random bytes (clean, incompressible content).
func icapRandomBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}
