import Foundation
import Synchronization

/// What the API server needs from the node that runs pods, beyond the store: the kubelet's
/// streaming endpoints (port-forward, exec, logs). The process node implements it with network
/// and mount namespaces; the virtual node runs no processes and answers every call with
/// `PodRuntimeError.noProcesses`.
///
/// Calls are made by the API layer (`pods/portforward`, `pods/exec`, `pods/log`) after it has
/// found the pod in the store; the runtime checks its own view (is the container running?).
public protocol PodRuntime: Sendable {
    /// A TCP connection to `port` on the pod's loopback, made inside the pod's network namespace,
    /// as the kubelet does for port-forward (so a server bound to 127.0.0.1 in the pod is
    /// reachable). Returns a connected, blocking-mode socket the caller owns and closes.
    func connect(namespace: String, pod: String, port: Int) async throws -> Int32

    /// Starts `command` in the container's namespaces, working directory and environment, as
    /// `kubectl exec` does. The caller owns the returned descriptors and must `wait` for the exit.
    func exec(_ request: ExecRequest) async throws -> ExecProcess

    /// The container's log in CRI format, one line per record:
    /// `<RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <text>` (P: a partial line whose
    /// rest follows in the next record). `previous` asks for the instance before the last
    /// restart. Nil when there is no such log (yet).
    func logFile(namespace: String, pod: String, container: String, previous: Bool) throws -> URL?
}

/// A command to run in a container, from a `pods/exec` request.
public struct ExecRequest: Sendable {
    public var namespace: String
    public var pod: String
    /// The container's name, already defaulted by the API layer (the first container, or the
    /// `kubectl.kubernetes.io/default-container` annotation).
    public var container: String
    public var command: [String]
    /// Whether the client sends input; when false, the process's stdin is /dev/null.
    public var stdin: Bool
    /// Whether the process runs on a pseudo-terminal (stdout and stderr are then one stream).
    public var tty: Bool

    public init(namespace: String, pod: String, container: String, command: [String], stdin: Bool, tty: Bool) {
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.command = command
        self.stdin = stdin
        self.tty = tty
    }
}

/// A started exec process. Descriptors are nil when not asked for (no stdin; with a tty, stdout
/// is the terminal's master side and stderr is nil).
public struct ExecProcess: Sendable {
    public var pid: Int32
    public var stdin: Int32?
    public var stdout: Int32?
    public var stderr: Int32?
    /// Waits for the process to end and returns its exit code (128 + n when killed by signal n).
    public var wait: @Sendable () async -> Int32
    /// Sets the terminal size (`tty` only; a no-op otherwise).
    public var resize: @Sendable (_ columns: UInt16, _ rows: UInt16) -> Void

    public init(
        pid: Int32, stdin: Int32?, stdout: Int32?, stderr: Int32?, wait: @escaping @Sendable () async -> Int32,
        resize: @escaping @Sendable (UInt16, UInt16) -> Void = { _, _ in }
    ) {
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.wait = wait
        self.resize = resize
    }
}

/// Why the node could not serve a streaming request; the API layer turns these into the
/// Status errors a real kubelet's answers become.
public enum PodRuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The virtual node runs no processes.
    case noProcesses
    case podNotRunning(namespace: String, pod: String)
    case containerNotFound(container: String, pod: String, available: [String])
    case containerNotRunning(container: String, pod: String)
    /// Nothing listens on that port in the pod.
    case connectionRefused(pod: String, port: Int)
    case executableNotFound(String)
    case failed(String)

    public var description: String {
        switch self {
        case .noProcesses:
            "this node runs no processes (the sandbox runs with '--node virtual'); start it with '--node process'"
        case .podNotRunning(let namespace, let pod):
            "pod \(pod) in namespace \(namespace) is not running"
        case .containerNotFound(let container, let pod, let available):
            "container \(container) is not valid for pod \(pod); choose one of: [\(available.joined(separator: " "))]"
        case .containerNotRunning(let container, let pod):
            "container \(container) in pod \(pod) is not running"
        case .connectionRefused(let pod, let port):
            "error forwarding port \(port) to pod \(pod): dial tcp4 127.0.0.1:\(port): connect: connection refused"
        case .executableNotFound(let command):
            "exec: \"\(command)\": executable file not found in $PATH"
        case .failed(let message):
            message
        }
    }
}

/// Names of what one sandbox cluster makes in the kernel, so that every piece (topology, pods,
/// cleanup) agrees and `down` can find leftovers of a killed run by name alone. Network
/// namespace names are free-form; interface names are per namespace (so short fixed names
/// suffice inside the cluster's own namespaces) and at most 15 bytes.
public struct ClusterNames: Sendable, Equatable {
    public let cluster: String

    public init(cluster: String) { self.cluster = cluster }

    /// Prefix of every network namespace of this cluster (`ip netns list | grep`).
    public var prefix: String { "sbx-\(cluster)-" }
    /// The node: bridge, service NAT, cluster DNS, the API server's cluster-side address.
    public var nodeNamespace: String { "\(prefix)node" }
    /// The workstation: reaches only the API server's address (192.0.2.0/24).
    public var workstationNamespace: String { "\(prefix)ws" }
    /// A pod's network namespace, from its uid.
    public func podNamespace(uid: String) -> String { "\(prefix)pod-\(uid.prefix(8))" }
    /// The node-side end of a pod's veth (in the node namespace).
    public func podVeth(uid: String) -> String { "veth\(uid.filter(\.isHexDigit).prefix(8))" }
    /// The bridge in the node namespace that pods attach to (10.244.0.1/16).
    public static let bridge = "cbr0"
    /// The pod's side of its veth.
    public static let podInterface = "eth0"
    /// The nftables table the sandbox owns in the node namespace.
    public static let nftTable = "sandbox"
    /// Where `ip netns exec` finds the workstation's own resolv.conf.
    public var workstationEtc: String { "/etc/netns/\(workstationNamespace)" }
}

/// Fixed addresses of the sandbox's topology (every cluster has its own namespaces, so they
/// never clash between clusters).
public enum ClusterAddresses {
    public static let podSubnet = "10.244.0.0/16"
    public static let nodeBridge = "10.244.0.1"
    public static let serviceSubnet = "10.96.0.0/16"
    public static let kubernetesService = "10.96.0.1"
    public static let clusterDNS = "10.96.0.10"
    /// The API server's address as the workstation and the cluster see it (in the node namespace).
    public static let apiServer = "192.0.2.1"
    public static let apiServerPort = 6443
    /// The workstation's address on its only link.
    public static let workstation = "192.0.2.2"
    public static let clusterDomain = "cluster.local"
}

/// Opens TCP connections from the cluster's network (the node namespace), where pod and service
/// addresses exist: the API server's calls to webhooks, probes. Returns a connected socket the
/// caller owns.
public protocol ClusterDialer: Sendable {
    func connect(host: String, port: Int) async throws -> Int32
}

/// The node as the API layer reaches it: its runtime and the cluster network. Set once by
/// whoever starts the node (the virtual node leaves the defaults), read on every request.
public final class NodeAccess: Sendable {
    private let state: Mutex<(runtime: any PodRuntime, dialer: any ClusterDialer, terminatesPods: Bool, serviceRouting: any ServiceRouting)>

    public init(runtime: any PodRuntime = NoProcessRuntime(), dialer: any ClusterDialer = HostDialer()) {
        state = Mutex((runtime, dialer, false, NoServiceRouting()))
    }

    /// What the node asks before it signals a terminating pod's containers: whether services
    /// still send new connections to the pod. Set by the cluster network (its service proxy);
    /// without one, nothing routes to pods and the answer comes at once.
    public var serviceRouting: any ServiceRouting {
        get { state.withLock { $0.serviceRouting } }
        set { state.withLock { $0.serviceRouting = newValue } }
    }

    /// Whether a node stops pods' processes before they go: a pod DELETE (or eviction) then
    /// marks the pod (deletionTimestamp, deletionGracePeriodSeconds) and the node removes it
    /// once its containers ended. False (the virtual node): pods go at once.
    public var terminatesPods: Bool {
        get { state.withLock { $0.terminatesPods } }
        set { state.withLock { $0.terminatesPods = newValue } }
    }

    public var runtime: any PodRuntime {
        get { state.withLock { $0.runtime } }
        set { state.withLock { $0.runtime = newValue } }
    }

    public var dialer: any ClusterDialer {
        get { state.withLock { $0.dialer } }
        set { state.withLock { $0.dialer = newValue } }
    }
}

/// The service proxy as the node sees it. A terminating pod leaves its Services' Endpoints
/// when its deletionTimestamp is set; the node waits for the proxy to have applied that before
/// it sends SIGTERM, so that no new connection reaches a container that is shutting down (the
/// ordering real clusters leave to a preStop sleep).
public protocol ServiceRouting: Sendable {
    /// Returns once the loaded service rules lead no new connection to `podIP`, or after
    /// `timeout` (rules that fail to load must not hold a pod's termination forever).
    func waitUntilUnrouted(_ podIP: String, timeout: Duration) async
}

/// No service proxy: nothing routes to pods.
public struct NoServiceRouting: ServiceRouting {
    public init() {}
    public func waitUntilUnrouted(_ podIP: String, timeout: Duration) async {}
}

/// The virtual node's runtime: there are no processes to reach.
public struct NoProcessRuntime: PodRuntime {
    public init() {}
    public func connect(namespace: String, pod: String, port: Int) async throws -> Int32 { throw PodRuntimeError.noProcesses }
    public func exec(_ request: ExecRequest) async throws -> ExecProcess { throw PodRuntimeError.noProcesses }
    public func logFile(namespace: String, pod: String, container: String, previous: Bool) throws -> URL? { nil }
}

/// Dials from this process's own network namespace (in-process test servers on 127.0.0.1).
public struct HostDialer: ClusterDialer {
    public init() {}
    public func connect(host: String, port: Int) async throws -> Int32 {
        try blockingConnect(host: host, port: port)
    }
}

/// A blocking TCP connect to an IPv4 or IPv6 literal; the socket stays in blocking mode.
public func blockingConnect(host: String, port: Int) throws -> Int32 {
    var hints = addrinfo()
    hints.ai_flags = AI_NUMERICHOST
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
        throw PodRuntimeError.failed("cannot connect to \(host):\(port): not an IP address")
    }
    defer { freeaddrinfo(result) }
    let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw PodRuntimeError.failed("socket: \(String(cString: strerror(errno)))") }
    if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
        let code = errno
        close(fd)
        throw PodRuntimeError.failed("dial tcp \(host):\(port): connect: \(String(cString: strerror(code)))")
    }
    return fd
}
