import Foundation

extension ChildProcess {
    /// Folders searched after PATH: system tools (`ip`, `nft`, `busctl`) live in sbin, which a
    /// user's PATH (or a daemon's minimal one) may lack.
    public static let systemFolders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// The path of executable `name`: a name with a slash as it is, else the first match in PATH
    /// and then ``systemFolders``; nil when it is not installed (or not executable).
    public static func locate(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for folder in path + systemFolders where access("\(folder)/\(name)", X_OK) == 0 {
            return "\(folder)/\(name)"
        }
        return nil
    }
}
