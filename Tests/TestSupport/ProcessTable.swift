import Foundation

/// The machine's processes as /proc shows them, for tests that look for what their code started
/// (daemons, servers, containers) and check that it ended.
public enum ProcessTable {
    /// One process; each property reads its /proc file when asked (a process may end meanwhile:
    /// what can no longer be read is empty).
    public struct Process: Sendable {
        public let pid: Int32

        /// The command line, its arguments separated by NUL bytes as in /proc/PID/cmdline.
        public var commandLine: String { read("cmdline") }

        /// The command line's arguments.
        public var arguments: [String] { commandLine.split(separator: "\0").map(String.init) }

        /// The environment the process started with, `NAME=value` entries separated by NUL bytes.
        public var environment: String { read("environ") }

        /// The process's mount table (/proc/PID/mountinfo).
        public var mountInfo: String { read("mountinfo") }

        /// The inode of the process's network namespace, to compare with a named one's
        /// (/run/netns/NAME).
        public var networkNamespace: UInt64? { ProcessTable.inode(of: "/proc/\(pid)/ns/net") }

        /// Whether the process still runs: it exists and is not a zombie waiting to be reaped.
        public var isRunning: Bool { ProcessTable.isRunning(pid) }

        private func read(_ file: String) -> String {
            FileManager.default.contents(atPath: "/proc/\(pid)/\(file)").map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }

    /// The pids of the processes for which `predicate` holds, never the test's own process (a
    /// test that ends what it finds must not end itself).
    public static func processes(matching predicate: (Process) -> Bool) -> [Int32] {
        let own = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { $0 != own && predicate(Process(pid: $0)) }
    }

    /// Whether `pid` still runs: it exists and is not a zombie waiting to be reaped.
    public static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0,
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              // The state follows the command name, which is in parentheses and may hold any byte.
              let close = stat.lastIndex(of: ")"),
              let state = stat[close...].dropFirst(2).first else { return false }
        return state != "Z"
    }

    /// The inode of `path` (a namespace file), or nil when it cannot be read.
    public static func inode(of path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }
}
