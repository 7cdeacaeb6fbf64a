import Foundation
import KordonCore

/// Puts passed messages into `outbox/` so that, after a crash at any instant, a claim
/// still in `work/` can tell exactly whether it was delivered.
///
/// The steps, for claim `C` of message `NAME`:
/// 1. write `.kordon-C.tmp` in `outbox/` and fsync it;
/// 2. hard-link it as `NAME` (or `NAME.C` when another message holds `NAME`): the
///    message appears complete, under its final name, in one atomic step that never
///    replaces anything; then fsync `outbox/`;
/// 3. (``SpoolService``) remove the claim from `work/` and fsync `work/`;
/// 4. remove `.kordon-C.tmp`.
///
/// While the claim exists its temporary file does too, so "the temporary file has a
/// second link" is exact proof of step 2, whatever name the message got and even if
/// the outbox's reader has already renamed it. No digest comparison is needed, and
/// two messages with the same name and the same bytes are still both delivered.
struct SpoolOutbox: Sendable {
    /// The spool.
    let directories: SpoolDirectories

    /// Whether an earlier attempt delivered `claim` (steps 1–2 done, 3 not).
    func wasDelivered(_ claim: SpoolClaim) throws -> Bool {
        guard let status = try SpoolFiles.status(path(claim.temporaryName)) else { return false }
        return status.isRegular && status.links >= 2
    }

    /// Step 1 but for its fsync: writes the temporary file, `replacing` the leftover of
    /// an earlier attempt that failed before linking (``wasDelivered(_:)`` said no). The
    /// caller flushes it (``SpoolService`` flushes a batch's files together) before
    /// ``publish(_:)`` puts the message in the outbox.
    func write(_ data: Data, for claim: SpoolClaim, replacing: Bool) throws -> UnsyncedFile {
        let temporary = path(claim.temporaryName)
        if replacing { try SpoolFiles.remove(temporary) }
        return try UnsyncedFile(creating: temporary, with: data)
    }

    /// Step 2 but for its flush, which the caller makes before it releases the claim
    /// (``SpoolService`` flushes `outbox/` once for a batch); returns the name the
    /// message got in `outbox/`.
    func publish(_ claim: SpoolClaim) throws -> String {
        let temporary = path(claim.temporaryName)
        var target = claim.name
        if try !SpoolFiles.link(temporary, as: path(target)) {
            target = claim.alternateName
            guard try SpoolFiles.link(temporary, as: path(target)) else {
                throw KordonError(code: "spool.deliver",
                                  message: "both \(claim.name) and \(target) exist in \(directories.outbox.path); move them away")
            }
        }
        return target
    }

    /// Makes an earlier attempt's delivery durable before its claim is released: that
    /// attempt may have failed between the link and the fsync.
    func confirm() throws {
        try directories.outboxSync.sync()
    }

    /// Step 4, once the claim is gone. A temporary file left by a crash here is
    /// removed at the next start.
    func finish(_ claim: SpoolClaim) {
        try? SpoolFiles.remove(path(claim.temporaryName))
    }

    /// Removes temporary files whose claims are no longer in `work/`; returns how many.
    /// Those are either never linked (nothing was delivered from them) or linked and
    /// released (the message has its outbox name): either way they are garbage.
    func removeStaleTemporaries(keeping claims: Set<String>) throws -> Int {
        var removed = 0
        for name in try SpoolFiles.list(directories.outbox.path).names {
            guard let id = SpoolClaim.id(ofTemporary: name), !claims.contains(id) else { continue }
            try SpoolFiles.remove(path(name))
            removed += 1
        }
        return removed
    }

    private func path(_ name: String) -> String { directories.outboxPath(name) }
}
