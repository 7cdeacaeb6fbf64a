import Foundation

/// Runs `body` on a thread of its own and suspends until it returns.
///
/// For a test that sets up or drives the store and the audit log, whose calls
/// block on an fsync: swift-testing runs tests as tasks of Swift's cooperative
/// pool, where debug builds trap such calls (``BlockingCallCheck`` in KordonCore).
/// `body` runs outside the test's task, so it returns what the test then checks
/// with `#expect` rather than checking it there.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
