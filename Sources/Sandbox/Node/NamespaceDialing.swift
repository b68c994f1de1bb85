import CNodeSupport
import Foundation

/// Opens a TCP connection from inside the network namespace at `path` (`/run/netns/NAME`):
/// the socket belongs to the namespace it was made in, so only this thread switches.
func connectInNamespace(_ path: String, host: String, port: Int) async throws -> Int32 {
    try await onNewThread("sandbox-node-dial") {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodRuntimeError.failed("network namespace \(path) is gone: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard sbx_unshare_fs() == 0, sbx_setns(fd, CChar(UInt8(ascii: "n"))) == 0 else {
            throw PodRuntimeError.failed("cannot enter the network namespace \(path): \(String(cString: strerror(errno)))")
        }
        return try blockingConnect(host: host, port: port)
    }
}
