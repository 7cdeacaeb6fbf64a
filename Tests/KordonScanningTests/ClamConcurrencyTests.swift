import Foundation
import KordonCore
import Testing
@testable import KordonScanning

@Suite("One engine, many threads", .timeLimit(.minutes(10)))
struct ClamConcurrencyTests {
    @Test("8 tasks scanning one engine 50 times each get the same answers")
    func concurrentScans() async throws {
        let engine = try Fixtures.engine()
        let names = ["clam.exe", "clam.zip", "clam.pdf", "clam.ole.doc", "clam.tar.gz"]
        var inputs = try names.map { try Data(contentsOf: Fixtures.clamTestFiles.appendingPathComponent($0)) }
        inputs.append(Fixtures.eicar)
        inputs.append(Fixtures.pseudoRandomBytes(16 * 1024))
        let frozenInputs = inputs
        let expected = frozenInputs.map { engine.scan($0, part: .message) }
        #expect(expected.last?.isEmpty == true)
        #expect(expected.dropLast().allSatisfy { !$0.isEmpty })

        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var mismatches = 0
                    for round in 0..<50 {
                        let index = (task + round) % frozenInputs.count
                        if engine.scan(frozenInputs[index], part: .message) != expected[index] { mismatches += 1 }
                    }
                    return mismatches
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
