import Foundation
import SandboxAPIServer

/// File-descriptor calls the cluster network's threads share.
enum LinuxCalls {
    /// A pipe whose ends are close-on-exec and non-blocking.
    static func pipe() throws(ClusterNetworkError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw .system("create a pipe", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        return (fds[0], fds[1])
    }
}
