import Foundation
import KordonCore
import Synchronization

/// Reports of messages the engines in use have already found clean, by content.
///
/// A gateway sees the same bytes again: a sender resends a message whose receipt
/// it did not get (guaranteed delivery means retries), a proxy passes the same
/// download to many users. clamd keeps a cache for the same reason (MD5 of clean
/// files); this one is keyed by the SHA-256 of the whole message and the route it
/// was filtered for, so a hit means "these exact bytes, these exact packs".
///
/// What makes it safe:
/// - It lives with one generation of engines: a reload builds a new, empty cache,
///   so a message cached clean is scanned again with new signatures, schemas or rules.
/// - Only `clean` verdicts are kept: a sanitized message's copy and a held
///   message's stored original are produced each time.
/// - Entries expire after `maximumAge`, so nothing that depends on the date (a
///   birth date in an identifier, a certificate's validity) is trusted for long.
/// - A hit skips the scan, not the decision: it is audited and counted like any other.
///
/// Eviction is first in, first out; a hit does not renew an entry.
final class VerdictCache: Sendable {
    /// What a cached verdict is valid for.
    struct Key: Hashable, Sendable {
        /// SHA-256 of the message, hex.
        var sha256: String
        /// The route the caller fixed (`nil`: read from the document, which these bytes determine).
        var from: String?
        var to: String?

        init(sha256: String, route: Report.Route?) {
            self.sha256 = sha256
            from = route?.from
            to = route?.to
        }
    }

    private struct Entry {
        var report: Report
        var stored: ContinuousClock.Instant
    }

    private struct Storage {
        var entries: [Key: Entry] = [:]
        var order: [Key] = []  // insertion order; `head` is the oldest still in `entries`
        var head = 0
    }

    /// Entries kept at most.
    let capacity: Int
    /// How long an entry is trusted.
    let maximumAge: Duration
    private let storage = Mutex(Storage())

    /// A cache of at most `capacity` reports, each trusted for `maximumAge`.
    init(capacity: Int, maximumAge: Duration) {
        self.capacity = max(0, capacity)
        self.maximumAge = maximumAge
    }

    /// The report of an earlier clean filtering of the same bytes for the same route,
    /// with `source` set to the new message's; `nil` when there is none or it is too old.
    func report(for key: Key, source: String) -> Report? {
        guard capacity > 0 else { return nil }
        let now = ContinuousClock.now
        let found: Report? = storage.withLock { storage in
            guard let entry = storage.entries[key] else { return nil }
            guard now - entry.stored < maximumAge else {
                storage.entries[key] = nil
                return nil
            }
            return entry.report
        }
        guard var report = found else { return nil }
        report.message.source = source
        return report
    }

    /// Keeps `report` when its verdict is clean; evicts the oldest entry when full.
    func remember(_ report: Report, for key: Key) {
        guard capacity > 0, report.verdict == .clean else { return }
        let entry = Entry(report: report, stored: ContinuousClock.now)
        storage.withLock { storage in
            if storage.entries.updateValue(entry, forKey: key) != nil { return }
            storage.order.append(key)
            // The window of `order` never exceeds the capacity, so keys of expired entries cannot pile up;
            // a key expired and stored again sits in it twice, and its older place evicts it early: harmless.
            while storage.order.count - storage.head > capacity {
                storage.entries[storage.order[storage.head]] = nil
                storage.head += 1
            }
            if storage.head > 1024, storage.head * 2 > storage.order.count {
                storage.order.removeFirst(storage.head)
                storage.head = 0
            }
        }
    }

    /// Entries held now.
    var count: Int { storage.withLock { $0.entries.count } }
}
