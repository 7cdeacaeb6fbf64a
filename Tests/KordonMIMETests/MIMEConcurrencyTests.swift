import Foundation
import KordonCore
import KordonMIME
import Testing

/// One parser value, many tasks: GMime objects are per parse, results are identical.
@Suite(.timeLimit(.minutes(10))) struct MIMEConcurrencyTests {
    /// What must be equal between two parses of the same message.
    private struct Summary: Equatable {
        var path: String
        var type: String?
        var name: String?
        var contentID: String?
        var isXML: Bool
        var isXOPRoot: Bool
        var data: Data
    }

    private func summary(_ result: MIMEParseResult) -> [Summary] {
        result.leaves.map {
            Summary(path: $0.part.path.description, type: $0.part.contentType, name: $0.part.filename,
                    contentID: $0.contentID, isXML: $0.isXML, isXOPRoot: $0.isXOPRoot, data: $0.part.data)
        }
    }

    @Test func eightTasksParseConcurrentlyWithTheSameResults() async throws {
        let message = try PythonMail.build("""
            inner = new()
            inner.set_content('inner text\\n')
            inner.add_attachment(XML, maintype='application', subtype='xml', filename='Декларация.xml')
            m = new()
            m.set_content('outer text\\n')
            m.add_alternative('<p>outer</p>\\n', subtype='html')
            m.add_attachment(inner)
            m.add_attachment(binary() * 20, maintype='application', subtype='pdf', filename='scan.pdf')
            emit(m)
            """)
        let parser = MIMEMessageParser(limits: Limits())
        let expected = parser.parse(message)
        #expect(expected.paths == ["mime/1/1", "mime/1/2", "mime/2/1", "mime/2/2", "mime/3"])
        let results = await withTaskGroup(of: MIMEParseResult.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var last = MIMEParseResult()
                    for _ in 0..<20 { last = parser.parse(message) }
                    return last
                }
            }
            return await group.reduce(into: [MIMEParseResult]()) { $0.append($1) }
        }
        #expect(results.count == 8)
        for result in results {
            #expect(summary(result) == summary(expected))
            #expect(result.findings == expected.findings)
        }
    }

    /// A 100 KB message with one 64 KB attachment; prints the average parse time.
    @Test func parsingAHundredKilobyteMessageIsFast() throws {
        let message = try PythonMail.build("""
            m = new()
            m.set_content(('Строка текста декларации. ' * 12 + '\\n') * 12)
            m.add_attachment(bytes((i * 7) % 256 for i in range(65536)), maintype='application', subtype='pdf', filename='a.pdf')
            emit(m)
            """)
        #expect((95_000...140_000).contains(message.count))
        let parser = MIMEMessageParser(limits: Limits())
        let rounds = 50
        let clock = ContinuousClock()
        var leaves = 0
        let elapsed = clock.measure {
            for _ in 0..<rounds { leaves += parser.parse(message).leaves.count }
        }
        #expect(leaves == 2 * rounds)
        let average = elapsed / rounds
        print("MIME parse of a \(message.count)-byte message with a 64 KB attachment: \(average) on average over \(rounds) (debug build)")
        #expect(average < .milliseconds(250))
    }
}
