import CLinuxSupport
import Glibc

extension NetworkNamespace {
    /// Moves the calling thread into a new, empty, unnamed network namespace with its loopback
    /// up (a benchmark's own network, gone when the process ends). Threads it starts afterwards
    /// are born there too; nothing else of the process moves.
    public static func enterPrivate() throws(PrivateNamespaceFailure) {
        guard lx_unshare_net() == 0 else { throw PrivateNamespaceFailure(step: "make a network namespace", errno: errno) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PrivateNamespaceFailure(step: "open a socket", errno: errno) }
        defer { close(fd) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, byte) in "lo".utf8.enumerated() { raw[i] = byte }
        }
        guard ioctl(fd, UInt(SIOCGIFFLAGS), &request) == 0 else { throw PrivateNamespaceFailure(step: "read lo's flags", errno: errno) }
        request.ifr_ifru.ifru_flags |= Int16(IFF_UP) | Int16(IFF_RUNNING)
        guard ioctl(fd, UInt(SIOCSIFFLAGS), &request) == 0 else { throw PrivateNamespaceFailure(step: "bring lo up", errno: errno) }
    }
}

/// A private network namespace could not be made (not root, no CAP_SYS_ADMIN).
public struct PrivateNamespaceFailure: Error, Sendable, CustomStringConvertible {
    public let step: String
    public let errno: Int32

    public var description: String { "cannot \(step): \(String(cString: strerror(errno))); run as root" }
}
