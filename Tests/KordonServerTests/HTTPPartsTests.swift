import Foundation
import KordonCore
@testable import KordonServer
import Testing

/// The small parts of the HTTP API: addresses, request parameters.
@Suite("HTTP API: parts", .timeLimit(.minutes(10)))
struct HTTPPartsTests {
    @Test("listen addresses, one parser for ICAP and HTTP: host:port, [v6]:port, port 0; every interface only as 0.0.0.0, never an empty host")
    func listenAddress() throws {
        let v4 = try ListenAddress("127.0.0.1:8080", key: "serve.http.listen", code: "http.listen")
        #expect(v4.host == "127.0.0.1" && v4.port == 8080 && v4.description == "127.0.0.1:8080")
        let v6 = try ListenAddress("[::1]:0", key: "serve.icap.listen", code: "icap.listen")
        #expect(v6.host == "::1" && v6.port == 0 && v6.description == "[::1]:0")
        let every = try ListenAddress("0.0.0.0:1344", key: "serve.icap.listen", code: "icap.listen")
        #expect(every.host == "0.0.0.0")
        for bad in ["8080", ":8080", ":1344", "localhost", "localhost:http", "localhost:70000", "localhost:-1", "local host:1"] {
            do {
                _ = try ListenAddress(bad, key: "serve.icap.listen", code: "icap.listen")
                Issue.record("\(bad) was taken")
            } catch let error as KordonError {
                #expect(error.code == "icap.listen" && error.message.contains("serve.icap.listen"), "\(error)")
            }
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
