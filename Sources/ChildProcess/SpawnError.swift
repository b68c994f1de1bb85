import Foundation

/// `posix_spawn` refused to start a program (missing, not executable, out of resources).
public struct SpawnError: Error, Sendable, Equatable, CustomStringConvertible {
    public let executable: String
    /// The error number posix_spawn returned.
    public let errno: Int32

    public init(executable: String, errno: Int32) {
        self.executable = executable
        self.errno = errno
    }

    public var description: String {
        "cannot start \(executable): \(String(cString: strerror(errno)))"
    }
}
