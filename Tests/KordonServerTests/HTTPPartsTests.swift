import Foundation
@testable import KordonServer
import Testing

/// The small parts of the HTTP API: addresses, request parameters.
@Suite("HTTP API: parts")
struct HTTPPartsTests {
    @Test("listen addresses: host:port, [v6]:port, port 0; anything else is refused")
    func listenAddress() throws {
        let v4 = try HTTPListenAddress("127.0.0.1:8080")
        #expect(v4.host == "127.0.0.1" && v4.port == 8080)
        let v6 = try HTTPListenAddress("[::1]:0")
        #expect(v6.host == "::1" && v6.port == 0)
        for bad in ["8080", ":8080", "localhost", "localhost:http", "localhost:70000", "localhost:-1"] {
            #expect(throws: (any Error).self, "\(bad)") { try HTTPListenAddress(bad) }
        }
    }

    @Test("Accept: application/json with parameters and weights")
    func acceptJSON() {
        #expect(HTTPFilterParameters.accepts(json: "application/json"))
        #expect(HTTPFilterParameters.accepts(json: "text/xml, Application/JSON; charset=utf-8"))
        #expect(HTTPFilterParameters.accepts(json: "application/json;q=0.5"))
        #expect(!HTTPFilterParameters.accepts(json: "application/json;q=0"))
        #expect(!HTTPFilterParameters.accepts(json: "application/xml"))
        #expect(!HTTPFilterParameters.accepts(json: "*/*"))
        #expect(!HTTPFilterParameters.accepts(json: nil))
    }

    @Test("state codes: two letters, upper-cased; anything else is refused")
    func stateCodes() throws {
        #expect(try HTTPFilterParameters.state("kz", name: "from") == "KZ")
        #expect(try HTTPFilterParameters.state(nil, name: "from") == nil)
        for bad in ["", "K", "KAZ", "K1", "ҚZ", "k z"] {
            #expect(throws: (any Error).self, "\(bad)") { try HTTPFilterParameters.state(bad, name: "to") }
        }
    }

    @Test("the body budget refuses what does not fit and takes back what is released")
    func budget() {
        let budget = HTTPBodyBudget(capacity: 100)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(41))
        #expect(budget.reserve(40))
        budget.release(60)
        #expect(budget.inUse == 40)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(1))
    }
}
