import Foundation

extension ChildProcess {
    /// Runs a program on the caller's terminal (stdin, stdout and stderr inherited) and returns
    /// its exit code once it ends (128 + n when killed by signal n): `telepresence connect --
    /// CMD`, `sudo -v`'s password prompt. The wait is on a thread of its own.
    public static func runAttached(executable: String, arguments: [String]) async throws(SpawnError) -> Int32 {
        let pid = try spawn(Launch(executable: executable, arguments: arguments))
        return await waitForExit(pid)
    }
}
