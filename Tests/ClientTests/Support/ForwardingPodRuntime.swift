import Foundation
import Sandbox
import Synchronization

/// A pod runtime for the virtual node that serves `pods/portforward` by connecting to a local
/// port: pod NAME's port P is whatever a test registered (a fake agent's tunnel listener), so
/// the product's port-forward to an agent pod goes through the sandbox's real API server.
final class ForwardingPodRuntime: PodRuntime, Sendable {
    private let ports = Mutex<[String: Int]>([:])

    /// Pod `pod`'s port `port` is 127.0.0.1:`local`.
    func forward(pod: String, port: Int, to local: Int) {
        ports.withLock { $0["\(pod):\(port)"] = local }
    }

    func connect(namespace: String, pod: String, port: Int) async throws -> Int32 {
        guard let local = ports.withLock({ $0["\(pod):\(port)"] }) else {
            throw PodRuntimeError.connectionRefused(pod: pod, port: port)
        }
        return try blockingConnect(host: "127.0.0.1", port: local)
    }

    func exec(_ request: ExecRequest) async throws -> ExecProcess {
        throw PodRuntimeError.noProcesses
    }

    func logFile(namespace: String, pod: String, container: String, previous: Bool) throws -> URL? {
        nil
    }
}
