import Foundation
import Synchronization

/// One message taken from `inbox/`: it lives in `work/` as `<id>~<name>` from the
/// atomic rename that claims it until it is in the outbox or the quarantine store.
///
/// The id is the message's quarantine id too, so redoing a claim after a crash
/// stores the original under the same id (the store's `put` is idempotent), and it
/// names the outbox temporary file, which proves after a crash whether the claim was
/// delivered (see ``SpoolOutbox``).
public struct SpoolClaim: Sendable, Hashable, CustomStringConvertible {
    /// Unique across processes and restarts: time, a counter and random bits; letters,
    /// digits and `-` only.
    public let id: String
    /// The file's name in `inbox/`, and the message's `source` in reports and the store.
    public let name: String

    /// The longest name a claim can carry: `<id>~<name>` and `<name>.<id>` must fit the
    /// file system's 255 bytes.
    static let longestName = 255 - 1 - 24

    /// A claim with an explicit id (recovery, tests).
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    /// A new claim for `name`, with a fresh id.
    init(name: String) {
        self.init(id: Self.makeID(), name: name)
    }

    /// Reads a `work/` entry's name back into a claim; `nil` for anything else.
    public init?(workName: String) {
        guard let separator = workName.firstIndex(of: "~") else { return nil }
        let id = String(workName[..<separator])
        let name = String(workName[workName.index(after: separator)...])
        guard !id.isEmpty, !name.isEmpty, id.utf8.allSatisfy(Self.isIDByte) else { return nil }
        self.init(id: id, name: name)
    }

    /// The entry's name in `work/`.
    public var workName: String { "\(id)~\(name)" }

    /// The outbox's temporary file for this claim: dot-named so that outbox readers
    /// skip it, and named by the id alone so that any message name fits.
    public var temporaryName: String { ".kordon-\(id).tmp" }

    /// The claim id a temporary outbox file belongs to, if it is one of ours.
    static func id(ofTemporary name: String) -> String? {
        guard name.hasPrefix(".kordon-"), name.hasSuffix(".tmp") else { return nil }
        let id = name.dropFirst(".kordon-".count).dropLast(".tmp".count)
        return !id.isEmpty && id.utf8.allSatisfy(isIDByte) ? String(id) : nil
    }

    /// The outbox name used when `name` is taken by another message.
    public var alternateName: String { "\(name).\(id)" }

    /// `claim-id~name`.
    public var description: String { workName }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
    }

    private static let counter = Atomic<Int>(0)

    /// Milliseconds since 1970 and a per-process counter (both base 36) and 40 random
    /// bits: unique even when clocks step back or two processes share a spool.
    private static func makeID() -> String {
        let milliseconds = Int(Date().timeIntervalSince1970 * 1000)
        let count = counter.add(1, ordering: .relaxed).newValue
        let random = UInt64.random(in: 0..<(1 << 40))
        return "\(String(milliseconds, radix: 36))-\(String(count, radix: 36))-\(String(random, radix: 36))"
    }
}
