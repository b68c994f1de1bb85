import Foundation

extension ChildProcess {
    /// Waits for `pid` on the calling thread and reaps it; returns its exit code as a shell
    /// shows it (128 + n when killed by signal n), or -1 when it is not our child.
    public static func blockingWait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return exitCode(status)
    }

    /// Waits for `pid` on a thread of its own, never blocking Swift's cooperative pool.
    public static func waitForExit(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            DedicatedThread.start(name: "child-process-wait") { continuation.resume(returning: blockingWait(pid)) }
        }
    }

    /// A `waitpid` status as a shell shows it.
    public static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
