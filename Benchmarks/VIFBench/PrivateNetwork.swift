import Glibc

/// The benchmark's own network namespace, so its device and routes never touch the machine's.
enum PrivateNetwork {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private typealias Unshare = @convention(c) (Int32) -> Int32

    /// Moves the calling thread into a new, empty network namespace and brings its loopback up.
    /// Threads it starts afterwards (the sender, NIO's loops) are born there too.
    static func enter() throws {
        // unshare(2) is declared only under _GNU_SOURCE, which Swift's Glibc import leaves out.
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "unshare") else { throw Failure(description: "cannot find unshare(2)") }
        let unshare = unsafeBitCast(symbol, to: Unshare.self)
        guard unshare(0x4000_0000 /* CLONE_NEWNET */) == 0 else {
            throw Failure(description: "cannot make a network namespace: \(String(cString: strerror(errno)))")
        }
        try bringUpLoopback()
    }

    private static func bringUpLoopback() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, byte) in "lo".utf8.enumerated() { raw[i] = byte }
        }
        guard ioctl(fd, UInt(SIOCGIFFLAGS), &request) == 0 else {
            throw Failure(description: "read lo's flags: \(String(cString: strerror(errno)))")
        }
        request.ifr_ifru.ifru_flags |= Int16(IFF_UP) | Int16(IFF_RUNNING)
        guard ioctl(fd, UInt(SIOCSIFFLAGS), &request) == 0 else {
            throw Failure(description: "bring lo up: \(String(cString: strerror(errno)))")
        }
    }
}
