import Foundation
import LinuxNet
import SandboxAPIServer
import SandboxNetwork

/// Opens a TCP connection from inside the network namespace at `path` (`/run/netns/NAME`), on a
/// thread of `NetworkNamespace`'s that enters it: the socket belongs to the namespace it was
/// made in, so only that thread switches.
func connectInNamespace(_ path: String, host: String, port: Int) async throws -> Int32 {
    try await NetworkNamespace.run(enteringNamespaceAt: path, threadName: "sandbox-node-dial", entryError: { failure in
        PodRuntimeError.failed(failure.opening
            ? "network namespace \(path) is gone: \(String(cString: strerror(failure.errno)))"
            : "cannot enter the network namespace \(path): \(String(cString: strerror(failure.errno)))")
    }) {
        try blockingConnect(host: host, port: port)
    }
}
