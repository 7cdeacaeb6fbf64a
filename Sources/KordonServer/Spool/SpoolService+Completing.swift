import Foundation
import KordonCore

/// Completing a claim: read, filter, deliver or hold, release — each step safe to
/// repeat after a failure or a crash (see ``SpoolService`` and ``SpoolOutbox``).
extension SpoolService {
    /// Retries a claim whose attempt failed with `error`, after a wait that suits
    /// the failure, until it is done or the service stops; a claim not done stays in
    /// `work/` for the next start.
    func retry(_ claim: SpoolClaim, after error: Error) {
        var attempt = 0
        var failure: Error? = error
        while let error = failure {
            let delay: Duration
            switch error {
            case let refused as ServiceUnavailable where refused.code != .stopping:
                // busy or reloading: the scanning side will take it shortly. Short, jittered
                // waits, so that the spool keeps its share beside ICAP and HTTP clients.
                delay = .milliseconds(Int.random(in: 5...(10 + 5 * min(attempt, 8))))
            case let refused as ServiceUnavailable:
                logger.info("the scanning service is stopping; the message stays in work/ for the next start",
                            metadata: ["claim": "\(claim)", "reason": "\(refused.description)"])
                return
            default:
                // A store, audit-log or disk failure: back off, 0.25 s doubling up to 30 s.
                let milliseconds = min(30_000, 250 << min(attempt, 7))
                delay = .milliseconds(milliseconds)
                logger.error("cannot finish a claimed message; it stays in work/ and is retried",
                             metadata: ["claim": "\(claim)", "error": "\(error)", "retryInMs": "\(milliseconds)"])
            }
            attempt += 1
            counts.withLock { $0.retries += 1 }
            guard stopping.pauseBlocking(delay) else { return }
            failure = finish([Attempt(claim: claim, fresh: false)]).first?.1
        }
    }

    /// One attempt for each claim; each step is safe to repeat after a failure or a
    /// crash. The batch moves together, so that its thread blocks a few times for all
    /// of it rather than at every step of every message: the messages are read and
    /// filtered as one group (``Decider/decideAll(_:)``); the passed ones
    /// are written to their outbox temporary files while the writer records the
    /// decisions; once each decision is recorded its message is linked into `outbox/`.
    /// The claims decided are released together: one flush of `outbox/` for those
    /// delivered (step 2 of ``SpoolOutbox``), their claims removed, one flush of
    /// `work/` (step 3), then their temporary files removed (step 4). Returns the
    /// claims not done, with why.
    ///
    /// The messages read are filtered in groups of at most `limits.maxMessageSize`
    /// bytes (a larger message is never read: see ``Decider/decideBlocking(_:)``),
    /// so that a worker holds about that much in memory at most, whatever its batch:
    /// large messages go a few at a time, small ones all eight together.
    func finish(_ attempts: [Attempt]) -> [(SpoolClaim, Error)] {
        let budget = service.configuration.limits.maxMessageSize
        var failed: [(SpoolClaim, Error)] = []
        var group: [ReadMessage] = []
        var bytes = 0
        var oversized: [SpoolClaim] = []
        for attempt in attempts {
            do {
                switch try read(attempt) {
                case .bytes(let data)?:
                    if !group.isEmpty, bytes + data.count > budget {
                        failed += complete(group, oversized: [])
                        group = []
                        bytes = 0
                    }
                    group.append(ReadMessage(claim: attempt.claim, data: data, fresh: attempt.fresh))
                    bytes += data.count
                case .tooLarge?: oversized.append(attempt.claim)
                case .notRegular?, nil: break
                }
            } catch {
                failed.append((attempt.claim, error))
            }
        }
        return failed + complete(group, oversized: oversized)
    }

    /// A claimed message read into memory.
    private struct ReadMessage {
        var claim: SpoolClaim
        var data: Data
        var fresh: Bool
    }

    /// ``finish(_:)`` for one group read into memory, and the claims too large to read.
    private func complete(_ messages: [ReadMessage], oversized: [SpoolClaim]) -> [(SpoolClaim, Error)] {
        var failed: [(SpoolClaim, Error)] = []
        let decisions = service.decider.decideAll(messages.map {
            IncomingMessage(data: $0.data, source: $0.claim.name, route: nil, transport: "spool", id: $0.claim.id)
        })
        var written: [(claim: SpoolClaim, decision: PendingDecision, file: UnsyncedFile?)] = []
        for (message, decision) in zip(messages, decisions) {
            do {
                let decision = try decision.get()
                let file = try decision.decision.result.output.map {
                    try outbox.write($0, for: message.claim, replacing: !message.fresh)
                }
                written.append((message.claim, decision, file))
            } catch {
                failed.append((message.claim, error))
            }
        }
        // The batch's outbox copies are flushed together (see UnsyncedFile): all writebacks first.
        for entry in written { entry.file?.startWriteback() }
        var decided: [(claim: SpoolClaim, delivered: Bool)] = []
        // Too large to read: held without being read into memory, streamed into the store.
        for claim in oversized {
            do {
                let decision = try service.decider.decideBlocking(
                    OversizedMessage(original: .file(path: directories.workPath(claim), id: claim.id), size: 0,
                                     source: claim.name, route: nil, transport: "spool"))
                decided.append((claim, try place(claim, decision)))
            } catch {
                failed.append((claim, error))
            }
        }
        for (claim, decision, file) in written {
            do {
                try file?.flush()
                decided.append((claim, try place(claim, try decision.recorded())))
            } catch {
                failed.append((claim, error))
            }
        }
        guard !decided.isEmpty else { return failed }
        do {
            if decided.contains(where: \.delivered) { try directories.outboxSync.sync() }
            for (claim, _) in decided { try SpoolFiles.remove(directories.workPath(claim)) }
            try directories.workSync.sync()
        } catch {
            return failed + decided.map { ($0.claim, error) }
        }
        for (claim, _) in decided { outbox.finish(claim) }
        return failed
    }

    /// The claimed message's bytes, or `.tooLarge` when it holds more than
    /// `limits.maxMessageSize` (nothing kept in memory); `nil` when there is nothing to
    /// filter (delivered before a restart, vanished), after dealing with it.
    private func read(_ attempt: Attempt) throws -> SpoolFiles.Contents? {
        let claim = attempt.claim
        if !attempt.fresh {
            if try outbox.wasDelivered(claim) {
                try outbox.confirm()
                try release(claim)
                counts.withLock { $0.alreadyDelivered += 1 }
                logger.info("already delivered before the restart; released", metadata: ["claim": "\(claim)"])
                return nil
            }
            guard try SpoolFiles.status(directories.workPath(claim)) != nil else {
                logger.error("a claimed message vanished from work/", metadata: ["claim": "\(claim)"])
                return nil
            }
        }
        let contents = try SpoolFiles.readRegular(directories.workPath(claim), limit: service.configuration.limits.maxMessageSize)
        if case .notRegular = contents {
            // A symlink or device swapped in before the claim: not a message, and never followed.
            logger.warning("a claimed entry is not a regular file; removed", metadata: ["claim": "\(claim)"])
            try release(claim)
            return nil
        }
        return contents
    }

    /// Links the passed message, already written to its temporary file, into
    /// `outbox/` (step 2 of ``SpoolOutbox``, without the flush), or leaves it held;
    /// true when delivered.
    private func place(_ claim: SpoolClaim, _ decision: Decision) throws -> Bool {
        let verdict = decision.report.verdict
        guard decision.result.output != nil else {
            counts.withLock { $0.held += 1 }
            logger.debug("held", metadata: ["claim": "\(claim)", "verdict": "\(verdict.rawValue)",
                                           "quarantineID": "\(decision.quarantineID ?? "-")"])
            return false
        }
        let delivered = try outbox.publish(claim)
        counts.withLock { $0.delivered += 1 }
        logger.debug("delivered", metadata: ["claim": "\(claim)", "verdict": "\(verdict.rawValue)", "outbox": "\(delivered)"])
        return true
    }

    /// Removes the claim from `work/` (durably, before its outbox temporary file goes).
    func release(_ claim: SpoolClaim) throws {
        try SpoolFiles.remove(directories.workPath(claim))
        try directories.workSync.sync()
        outbox.finish(claim)
    }
}
