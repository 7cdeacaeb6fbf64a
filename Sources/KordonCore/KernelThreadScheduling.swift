import Foundation

/// How the kernel schedules the calling thread.
public enum KernelThreadScheduling {
    /// `SCHED_BATCH` from Linux's `<linux/sched.h>`: Glibc's module does not import it.
    private static let batchPolicy: Int32 = 3

    /// Marks the calling thread `SCHED_BATCH`: its wake-ups no longer preempt the
    /// thread running on its core, which keeps the core until its time slice ends.
    ///
    /// For threads that wake often for a little work between waits on a disk (the
    /// spool's file threads): as ordinary threads, each wake-up took the core from a
    /// scanning thread in mid-scan, thousands of times a second. Same priority
    /// otherwise; allowed without privileges. Does nothing where the kernel refuses.
    public static func preferBatch() {
        var parameters = sched_param()
        parameters.sched_priority = 0
        _ = sched_setscheduler(0, batchPolicy, &parameters)
    }

    /// Whether the calling thread is `SCHED_BATCH`.
    public static var isBatch: Bool { sched_getscheduler(0) == batchPolicy }
}
