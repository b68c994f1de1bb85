import Foundation

/// Reads the pid file; nil when missing or when that process is gone.
func runningPID(in directory: URL) -> Int32? {
    guard let text = try? String(contentsOf: directory.appendingPathComponent("pid"), encoding: .utf8),
          let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, isAlive(pid)
    else { return nil }
    return pid
}

/// Whether `pid` runs (a zombie, dead but not yet reaped, does not).
func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")"),
          stat.index(end, offsetBy: 2) < stat.endIndex
    else { return false }
    return stat[stat.index(end, offsetBy: 2)] != "Z"
}

/// The `sandbox-cluster serve --name NAME` processes alive now (found by their command line, so
/// a server whose pid file is gone is found too).
func serverProcesses(name: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.count > 3, arguments[0].hasSuffix("sandbox-cluster"), arguments[1] == "serve" else { return false }
        return zip(arguments, arguments.dropFirst()).contains { $0 == "--name" && $1 == name }
    }
}
