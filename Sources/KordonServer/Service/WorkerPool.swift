import Foundation
import KordonCore
import Synchronization

/// A fixed set of plain threads for work that blocks or burns CPU; submissions beyond
/// the queue bound are refused at once (back-pressure), never queued without limit.
///
/// Such work never runs on an event loop or Swift's cooperative pool, whose few
/// threads must stay free to answer. The service keeps one pool for scans (libclamav,
/// libxml2, Hyperscan: CPU-bound C work), one for storing originals in the quarantine
/// (fsyncs); the spool keeps one for its file work (renames and fsyncs). Like
/// swift-nio's `NIOThreadPool`, the pool knows nothing of what its jobs do.
final class WorkerPool: @unchecked Sendable {
    // `@unchecked`: every mutable field below is read and written only with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var active = 0
    private var stopped = false
    /// Threads waiting in ``drain(timeout:)``: only they need a wake-up when a job ends.
    private var drainers = 0
    private let bound: Int

    /// Starts `threads` threads named `name-N`; at most `queueBound` jobs wait for one.
    /// `batch` threads are scheduled `SCHED_BATCH` (see ``KernelThreadScheduling/preferBatch()``).
    init(threads: Int, queueBound: Int, name: String, batch: Bool = false) {
        bound = max(1, queueBound)
        for index in 0..<max(1, threads) {
            let threadName = "\(name)-\(index)"
            let thread = Thread { [self] in
                KernelThreadName.set(threadName)
                if batch { KernelThreadScheduling.preferBatch() }
                loop()
            }
            thread.name = threadName
            // libclamav and libxml2 recurse on nested content: give them room.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Jobs waiting for a thread.
    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Jobs waiting or running.
    var load: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head + active
    }

    /// Runs `work` on one of the pool's threads and returns its result; throws
    /// ``ServiceUnavailable`` at once when the queue is full or the pool is stopping.
    ///
    /// A task cancelled while its job waits (a client that hung up) gets `CancellationError`
    /// and its job is skipped when its turn comes; a job already running finishes (libclamav
    /// cannot be interrupted) and its result is handed back as usual.
    func submit<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        try Task.checkCancellation()
        let cancelled = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                do {
                    try enqueue {
                        if cancelled.isSet {
                            continuation.resume(throwing: CancellationError())
                        } else {
                            continuation.resume(returning: work())
                        }
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            cancelled.set()
        }
    }

    /// Queues every job and waits until all have run, blocking the calling thread
    /// (which must not be one of this pool's) once for the lot; a job the pool
    /// refused (queue full, stopping) has that refusal in its place.
    func runAll<T: Sendable>(_ works: [@Sendable () -> T]) -> [Result<T, ServiceUnavailable>] {
        BlockingCallCheck.check("WorkerPool.runAll")
        let done = DispatchGroup()
        let boxes = works.map { _ in ResultBox<T>() }
        var refusals: [Int: ServiceUnavailable] = [:]
        for (index, work) in works.enumerated() {
            let box = boxes[index]
            done.enter()
            do {
                try enqueue {
                    box.value = work()
                    done.leave()
                }
            } catch {
                refusals[index] = error
                done.leave()
            }
        }
        done.wait()
        return boxes.indices.map { index in refusals[index].map { .failure($0) } ?? .success(boxes[index].value!) }
    }

    /// Queues `job` for a thread, or throws ``ServiceUnavailable`` when stopping or full.
    private func enqueue(_ job: @escaping @Sendable () -> Void) throws(ServiceUnavailable) {
        condition.lock()
        defer { condition.unlock() }
        if stopped { throw ServiceUnavailable.stopping }
        if jobs.count - head >= bound { throw ServiceUnavailable.busy }
        jobs.append(job)
        condition.signal()
    }

    /// Stops taking jobs; queued and running jobs still finish.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until nothing is queued or running, or `timeout` passes; true when idle.
    func drain(timeout: Duration) -> Bool {
        BlockingCallCheck.check("WorkerPool.drain")
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        drainers += 1
        defer {
            drainers -= 1
            condition.unlock()
        }
        while jobs.count - head + active > 0 {
            if !condition.wait(until: deadline) { return jobs.count - head + active == 0 }
        }
        return true
    }

    private func loop() {
        while true {
            condition.lock()
            while head == jobs.count && !stopped { condition.wait() }
            if head == jobs.count && stopped {
                condition.unlock()
                return
            }
            let job = jobs[head]
            jobs[head] = {}  // its captures (a whole message) go when it is done, not at the next compaction
            head += 1
            if head > 1024, head * 2 > jobs.count {  // compact the consumed prefix now and then
                jobs.removeFirst(head)
                head = 0
            }
            active += 1
            condition.unlock()
            job()
            condition.lock()
            active -= 1
            // Waking every idle thread after every job would be a thundering herd: only drainers wait for this.
            if drainers > 0 { condition.broadcast() }
            condition.unlock()
        }
    }
}

/// Carries a job's result from a pool thread to the thread waiting in ``WorkerPool/runAll(_:)``;
/// the dispatch group orders the write before the read.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// Set once, from any thread, when the task that submitted a job is cancelled.
private final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
