import Glibc
import LinuxNet

/// The benchmark's own network namespace, so its device and routes never touch the machine's.
enum PrivateNetwork {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Moves the calling thread into a new, empty network namespace with its loopback up.
    /// Threads it starts afterwards (the sender, NIO's loops) are born there too.
    static func enter() throws {
        do { try NetworkNamespace.enterPrivate() } catch { throw Failure(description: error.description) }
    }
}
