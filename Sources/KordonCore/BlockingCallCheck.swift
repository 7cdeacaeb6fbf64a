import Foundation
import Synchronization

/// Catches, in debug builds, a call that blocks its thread (a wait for an fsync, for
/// other threads' work) made where no thread may block: a task on Swift's cooperative
/// pool, whose few threads every async function of the process shares, or an event
/// loop, whose thread serves every connection on it.
///
/// The calls that block say so by calling ``check(_:)`` first. Event loops are always
/// checked. Tasks are checked inside ``enforcing(_:)``: the service runs each
/// transport, and each ICAP request, inside it, so every task it starts is checked,
/// while a test or a CLI command that blocks on purpose is not. The test suite runs
/// debug builds, so a blocking call that reaches such a thread stops the suite with
/// the call's name instead of stalling the service under load. Release builds skip
/// the check.
public enum BlockingCallCheck {
    /// Whether the current task (and the tasks it starts) must not block.
    @TaskLocal public static var enforced = false

    /// Runs `body` with blocking calls forbidden in its task and its child tasks.
    public static func enforcing<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        try await $enforced.withValue(true) { try await body() }
    }

    /// Other threads that must not block, registered by the modules that own them
    /// (the server registers "an event loop of swift-nio").
    private static let forbidden = Mutex<[@Sendable () -> String?]>([])

    /// Adds a test for threads that must not block: it returns what the thread is
    /// (for the failure message), or `nil` when the current thread may block.
    public static func forbid(_ test: @escaping @Sendable () -> String?) {
        forbidden.withLock { $0.append(test) }
    }

    /// Traps (debug builds only) when the current thread must not block; `call` names
    /// the blocking call for the failure message.
    public static func check(_ call: StaticString) {
        #if DEBUG
        if let place = forbiddenPlace() {
            assertionFailure("\(call) blocks its thread, and it was called on \(place)")
        }
        #endif
    }

    /// What the current thread is when it must not block, or `nil`.
    public static func forbiddenPlace() -> String? {
        if enforced, withUnsafeCurrentTask(body: { $0 != nil }) { return "a task of Swift's cooperative pool" }
        let tests = forbidden.withLock { $0 }
        for test in tests {
            if let place = test() { return place }
        }
        return nil
    }
}
