import Foundation
import KordonTestSupport
import KordonServer
import Testing

/// Idle and garbage connections cannot exhaust the ICAP listener: a head must arrive whole
/// within `serve.icap.headTimeoutSeconds`, garbage is answered 400 at once, and one client
/// address holds at most `serve.icap.maxConnectionsPerAddress` connections.
@Suite("ICAP head deadline and connection bounds", .serialized, .timeLimit(.minutes(10)))
struct ICAPHeadDeadlineTests {
    @Test("garbage gets 400 at once and the connection is closed (no deadline, no empty line awaited)",
          arguments: [
              ("a TLS hello on the plain port", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]),
              ("NUL bytes", [0x00, 0x00, 0x00, 0x00]),
              ("binary after a method", Array("RESPMOD ".utf8) + [0xFF, 0xFE, 0x01]),
              ("HTTP on the ICAP port", Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8)),
              ("an LF-only head", Array("OPTIONS icap://127.0.0.1/kordon ICAP/1.0\nHost: x\n\n".utf8)),
              ("an LF-only header line", Array("OPTIONS icap://127.0.0.1/kordon ICAP/1.0\r\nHost: x\n".utf8)),
              ("a bare CR", Array("OPTIONS icap://127.0.0.1/kordon ICAP/1.0\rHost: x".utf8)),
              ("a control byte in a header", Array("OPTIONS icap://127.0.0.1/kordon ICAP/1.0\r\nHost: \u{07}x".utf8)),
              ("a method too long to be one", Array(String(repeating: "A", count: 40).utf8)),
              ("a request line that never ends", Array(("OPTIONS icap://127.0.0.1/" + String(repeating: "k", count: 9000)).utf8)),
          ] as [(String, [UInt8])])
    func garbage(_ name: String, _ bytes: [UInt8]) async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let started = ContinuousClock.now
            let (status, closed) = try await icapBlocking {
                // Far below the 10 s head deadline of the shared server: only the screen can answer in time.
                let connection = try ICAPTestConnection(port: port, timeout: 2)
                try connection.send(bytes)
                let response = try connection.readResponse()
                return (response.status, connection.isClosedByServer())
            }
            #expect(status == 400, "\(name)")
            #expect(closed, "\(name)")
            #expect(ContinuousClock.now - started < .seconds(2), "\(name)")
        }
    }

    @Test("well-formed requests still pass the screen: byte by byte, after empty lines, with obs-text in a value")
    func wellFormedPasses() async throws {
        try await withSharedICAPServer { server in
            let port = server.port
            let statuses = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port, timeout: 5)
                var statuses: [Int] = []
                for byte in ICAPTestRequest.options(port: port) { try connection.send([byte]) }
                statuses.append(try connection.readResponse().status)
                try connection.send(Array("\r\n\r\n".utf8) + ICAPTestRequest.options(port: port))
                statuses.append(try connection.readResponse().status)
                let head = "OPTIONS icap://127.0.0.1:\(port)/kordon ICAP/1.0\r\nHost: 127.0.0.1\r\nX-Note: caf\u{e9}\r\nEncapsulated: null-body=0\r\n\r\n"
                try connection.send(Array(head.utf8))
                statuses.append(try connection.readResponse().status)
                return statuses
            }
            #expect(statuses == [200, 200, 200])
        }
    }

    @Test("a head trickled a byte at a time is cut at the deadline with 408: each byte buys no time")
    func trickledHead() async throws {
        try await withICAPServer({ $0.service.icap.headTimeoutSeconds = 1 }) { server in
            let port = server.port
            let (status, elapsed, closed) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port, timeout: 5)
                let started = ContinuousClock.now
                try connection.send("OPTIONS icap://127.0.0.1:\(port)/kordon ICAP/1.0\r\nX-Slow: ")
                // One byte every 100 ms, for up to 5 s, until the server answers.
                for _ in 0..<50 where connection.staysSilent(for: 0.1) { try? connection.send("a") }
                let response = try connection.readResponse()
                return (response.status, ContinuousClock.now - started, connection.isClosedByServer())
            }
            #expect(status == 408)
            #expect(elapsed >= .milliseconds(900) && elapsed < .milliseconds(2500), "cut after \(elapsed)")
            #expect(closed)
        }
    }

    @Test("a connection that sends nothing is answered 408 and closed at the deadline")
    func silentConnection() async throws {
        try await withICAPServer({ $0.service.icap.headTimeoutSeconds = 1 }) { server in
            let port = server.port
            let (status, closed) = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port, timeout: 4)
                let response = try connection.readResponse()
                return (response.status, connection.isClosedByServer())
            }
            #expect(status == 408)
            #expect(closed)
        }
    }

    @Test("a body after its head is not bound by the head deadline")
    func slowBodyIsNotCut() async throws {
        try await withICAPServer({ $0.service.icap.headTimeoutSeconds = 1 }) { server in
            let port = server.port
            let body = Array("a clean body sent slowly".utf8)
            let status = try await icapBlocking {
                let connection = try ICAPTestConnection(port: port, timeout: 5)
                try connection.send(ICAPTestRequest.respmod(port: port, bodyLength: body.count, headers: ["Allow: 204"]))
                Thread.sleep(forTimeInterval: 1.5)
                try connection.send(ICAPTestRequest.chunked(body))
                return try connection.readResponse().status
            }
            #expect(status == 204)
        }
    }

    @Test("256 half-sent heads from one address: the rest are refused at once, other clients are served at once, the held ones cut at the deadline")
    func halfSentHeadsFromOneAddress() async throws {
        try await withICAPServer({
            $0.service.icap.headTimeoutSeconds = 2
            $0.service.icap.maxConnectionsPerAddress = 32
        }) { server in
            let port = server.port
            let result = try await icapBlocking {
                let partial = Array("RESPMOD icap://127.0.0.1:\(port)/kordon ICAP/1.0\r\nHost: 127.0.0.1\r\n".utf8)
                var held: [ICAPTestConnection] = []
                var refused = 0
                for _ in 0..<256 {
                    let connection = try ICAPTestConnection(port: port, timeout: 5, source: "127.0.0.3")
                    try? connection.send(partial)
                    // A refused connection is answered 503 at once; a held one stays silent.
                    if connection.staysSilent(for: 0.02) { held.append(connection) } else {
                        if (try? connection.readResponse().status) == 503 { refused += 1 }
                    }
                }
                // Another client is served at once, although the listener holds 32 half-sent heads.
                let started = ContinuousClock.now
                let other = try ICAPTestConnection(port: port, timeout: 5, source: "127.0.0.2")
                try other.send(ICAPTestRequest.options(port: port))
                let otherStatus = try other.readResponse().status
                let otherWaited = ContinuousClock.now - started
                // The held ones are cut at the deadline.
                let cut = held.filter { (try? $0.readResponse().status) == 408 && $0.isClosedByServer() }.count
                // Then, once they close, the address is served again.
                let heldCount = held.count
                held.removeAll()
                Thread.sleep(forTimeInterval: 0.2)
                let again = try ICAPTestConnection(port: port, timeout: 5, source: "127.0.0.3")
                try again.send(ICAPTestRequest.options(port: port))
                return (heldCount, refused, otherStatus, otherWaited, cut, try again.readResponse().status)
            }
            let (held, refused, otherStatus, otherWaited, cut, again) = result
            #expect(held == 32)
            #expect(refused == 256 - 32)
            #expect(otherStatus == 200)
            #expect(otherWaited < .milliseconds(500), "another client waited \(otherWaited)")
            #expect(cut == 32)
            #expect(again == 200)
        }
    }

    @Test("a full listener frees itself within the head deadline, not the idle timeout")
    func fullListenerRecovers() async throws {
        try await withICAPServer({
            $0.service.icap.headTimeoutSeconds = 1
            $0.service.icap.maxConnections = 16
            $0.service.icap.maxConnectionsPerAddress = 4
        }) { server in
            let port = server.port
            let (statuses, waited) = try await icapBlocking {
                var holders: [ICAPTestConnection] = []
                for address in 3...6 {
                    for _ in 0..<4 {
                        let connection = try ICAPTestConnection(port: port, timeout: 5, source: "127.0.0.\(address)")
                        try connection.send("OPTIONS icap://127.0.0.1:\(port)/kordon ICAP/1.0\r\n")
                        holders.append(connection)
                    }
                }
                Thread.sleep(forTimeInterval: 0.1)
                let started = ContinuousClock.now
                var statuses: [Int] = []
                while ContinuousClock.now - started < .seconds(5) {
                    let client = try ICAPTestConnection(port: port, timeout: 5, source: "127.0.0.2")
                    try client.send(ICAPTestRequest.options(port: port))
                    let status = try client.readResponse().status
                    statuses.append(status)
                    if status == 200 { break }
                    Thread.sleep(forTimeInterval: 0.1)
                }
                _ = holders
                return (statuses, ContinuousClock.now - started)
            }
            #expect(statuses.first == 503, "the listener was full")
            #expect(statuses.last == 200)
            // The deadline (1 s), then the 2 s an answered connection is given to read its answer
            // and close (the holders never do): seconds, where the idle timeout took 300.
            #expect(waited < .milliseconds(4000), "served after \(waited)")
        }
    }
}
