// One persistent TCP connection to an ICAP server: a blocking POSIX socket with
// TCP_NODELAY, requests sent in one write, answers read through a buffer.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The connection ended where a new answer should have begun: the server closed a
/// kept-alive connection, and the request may be sent again on a new one.
struct ICAPClosedBeforeAnswer: Error {}

/// A protocol or socket failure: the run stops with this message.
struct ICAPLoadFailure: Error, CustomStringConvertible {
    let description: String
}

/// A blocking TCP connection (used by one thread only); the socket is closed on deinit.
final class ICAPConnection {
    private let socket: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 18)
    private var start = 0
    private var end = 0

    init(host: String, port: UInt16) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw ICAPLoadFailure(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let fd = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw ICAPLoadFailure(description: "socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        // Without TCP_NODELAY a request's last segment can wait for the server's delayed ACK.
        guard setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0,
              connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ICAPLoadFailure(description: "cannot connect to \(host):\(port): \(reason)")
        }
        socket = fd
    }

    deinit { close(socket) }

    /// Bytes received and not yet consumed (nonzero between answers means the stream is out of step).
    var buffered: Int { end - start }

    /// Sends `parts` back to back with one sendmsg call (more only if the kernel takes part of it).
    /// Throws ICAPClosedBeforeAnswer if the server has closed the connection.
    func send(_ parts: [UnsafeRawBufferPointer]) throws {
        var vectors = parts.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        var first = 0
        while first < vectors.count {
            let sent = vectors[first...].withUnsafeMutableBufferPointer { pending -> Int in
                var message = msghdr()
                message.msg_iov = pending.baseAddress
                message.msg_iovlen = pending.count
                return sendmsg(socket, &message, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { throw ICAPClosedBeforeAnswer() }
                throw ICAPLoadFailure(description: "send: \(String(cString: strerror(errno)))")
            }
            var left = sent
            while first < vectors.count, left >= vectors[first].iov_len {
                left -= vectors[first].iov_len
                first += 1
            }
            if left > 0 {
                vectors[first].iov_base = vectors[first].iov_base.map { $0 + left }
                vectors[first].iov_len -= left
            }
        }
    }

    /// Reads more bytes; returns false at the end of the stream.
    private func fill() throws -> Bool {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count {
            guard start > 0 else { throw ICAPLoadFailure(description: "a line or header section longer than \(buffer.count) bytes") }
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in recv(socket, raw.baseAddress! + end, raw.count - end, 0) }
            if count > 0 {
                end += count
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if errno == ECONNRESET { return false }
            throw ICAPLoadFailure(description: "recv: \(String(cString: strerror(errno)))")
        }
    }

    /// Fills, or throws: `ICAPClosedBeforeAnswer` if nothing of an answer had come yet, else a failure.
    private func need(_ what: String, answerStarted: Bool) throws {
        if try fill() { return }
        if answerStarted { throw ICAPLoadFailure(description: "the server closed the connection in the middle of \(what)") }
        throw ICAPClosedBeforeAnswer()
    }

    /// The next line without its CRLF. A bare LF is a protocol error.
    func line(_ what: String, answerStarted: Bool = true) throws -> [UInt8] {
        var scanned = start
        while true {
            if let lf = buffer[scanned..<end].firstIndex(of: 0x0A) {
                guard lf > start, buffer[lf - 1] == 0x0D else {
                    throw ICAPLoadFailure(description: "a line of \(what) ends in a bare LF")
                }
                let line = Array(buffer[start..<lf - 1])
                start = lf + 1
                return line
            }
            let offset = end - start
            try need(what, answerStarted: answerStarted || end > start)
            scanned = start + offset
        }
    }

    /// The next `count` bytes (count must fit the buffer: header sections).
    func take(_ count: Int, _ what: String) throws -> [UInt8] {
        guard count <= buffer.count else { throw ICAPLoadFailure(description: "\(what) of \(count) bytes is too large") }
        while end - start < count {
            if end == buffer.count || (start > 0 && buffer.count - start < count) {
                buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start) }
                end -= start
                start = 0
            }
            try need(what, answerStarted: true)
        }
        let bytes = Array(buffer[start..<start + count])
        start += count
        return bytes
    }

    /// Reads and drops `count` bytes (a body chunk), however large.
    func skip(_ count: Int, _ what: String) throws {
        var left = count
        while left > 0 {
            if start == end { try need(what, answerStarted: true) }
            let used = min(left, end - start)
            start += used
            left -= used
        }
    }
}
