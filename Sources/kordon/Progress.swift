import Foundation
import Kordon

/// Progress on a terminal: count, rate and time left, redrawn on stderr at most
/// five times a second. Silent when stderr is not a terminal.
final class Progress: @unchecked Sendable {
    // Only touched from BatchScanner's deliver callback, which runs under its lock.
    private let total: Int
    private let enabled: Bool
    private let started = ContinuousClock.now
    private var lastDrawn = ContinuousClock.now - .seconds(1)
    private var drawn = false

    init(total: Int) {
        self.total = total
        self.enabled = isatty(STDERR_FILENO) == 1 && total > 1
    }

    func show(_ totals: BatchScanner.Totals) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - lastDrawn >= .milliseconds(200) else { return }
        lastDrawn = now
        let seconds = (now - started).seconds
        let rate = seconds > 0 ? Double(totals.done) / seconds : 0
        let left = rate > 0 ? Double(total - totals.done) / rate : 0
        StandardError.write(String(format: "\r%d/%d  %.0f messages/s  %d quarantined  ETA %.0f s ",
                                   totals.done, total, rate, totals.quarantined, left))
        drawn = true
    }

    func clear() {
        guard drawn else { return }
        StandardError.write("\r\u{1B}[K")
        drawn = false
    }

    func finish() { clear() }
}
