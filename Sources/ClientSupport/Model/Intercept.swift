import HTTPRouting
import RPC

/// One engagement (intercept, wiretap, replace or ingest) as the client sees it (the manager's
/// InterceptInfo in the domain's terms): what was asked, what the manager resolved, where its
/// agents are, and the engaged container's env.
public struct Intercept: Sendable, Equatable {
    /// A replaced container's port and where its connections go on the workstation.
    public struct ReplacedPort: Sendable, Hashable {
        public var name: String
        public var containerPort: Int
        /// TCP or UDP.
        public var transport: String
        public var targetPort: Int

        public init(name: String = "", containerPort: Int, transport: String = "TCP", targetPort: Int) {
            self.name = name
            self.containerPort = containerPort
            self.transport = transport
            self.targetPort = targetPort
        }

        /// `8080/TCP`.
        public var text: String { "\(containerPort)/\(transport)" }
    }

    /// Where one of the intercept's agents runs: the client opens a tunnel to it.
    public struct AgentPod: Sendable, Hashable {
        public var podName: String
        public var namespace: String
        public var podIP: String
        public var tunnelPort: Int

        public init(podName: String, namespace: String, podIP: String, tunnelPort: Int) {
            self.podName = podName
            self.namespace = namespace
            self.podIP = podIP
            self.tunnelPort = tunnelPort
        }
    }

    public var id: String
    public var name: String
    /// intercept, wiretap, replace or ingest.
    public var kind: EngagementKind
    /// Only these HTTP requests (intercept, wiretap); nil: every connection.
    public var filter: HTTPFilter?
    /// A replace's ports.
    public var replacedPorts: [ReplacedPort]
    /// The engagement in words, from the manager ("all TCP connections", "a copy of ...",
    /// "replaced: ports 8080/TCP", "environment and mounts only").
    public var summary: String
    /// The workload (the agent's name) and its kind.
    public var workload: String
    public var workloadKind: String
    public var namespace: String
    /// user@host of the client that holds it.
    public var client: String
    public var clientSessionID: String
    /// Where connections go on the workstation.
    public var targetHost: String
    public var targetPort: Int
    public var portIdentifier: String
    public var serviceName: String
    public var servicePortName: String
    public var servicePort: Int
    /// TCP or UDP.
    public var transport: String
    public var containerName: String
    public var containerPort: Int
    /// --to-pod ports ("8081/TCP").
    public var toPod: [String]
    /// ACTIVE, WAITING, AGENT_ERROR, REMOVED, ... (manager.proto's disposition names).
    public var disposition: String
    public var message: String
    public var agents: [AgentPod]
    public var environment: [String: String]
    public var mounts: [String]
    /// When the manager created it, Unix milliseconds.
    public var createdMilliseconds: Int64

    public init(
        id: String = "", name: String, kind: EngagementKind = .intercept, filter: HTTPFilter? = nil,
        replacedPorts: [ReplacedPort] = [], summary: String = "", workload: String, workloadKind: String = "", namespace: String = "",
        client: String = "", clientSessionID: String = "", targetHost: String = "127.0.0.1", targetPort: Int = 8080,
        portIdentifier: String = "", serviceName: String = "", servicePortName: String = "", servicePort: Int = 0,
        transport: String = "TCP", containerName: String = "", containerPort: Int = 0, toPod: [String] = [],
        disposition: String = "", message: String = "", agents: [AgentPod] = [], environment: [String: String] = [:],
        mounts: [String] = [], createdMilliseconds: Int64 = 0
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.filter = filter
        self.replacedPorts = replacedPorts
        self.summary = summary
        self.workload = workload
        self.workloadKind = workloadKind
        self.namespace = namespace
        self.client = client
        self.clientSessionID = clientSessionID
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.portIdentifier = portIdentifier
        self.serviceName = serviceName
        self.servicePortName = servicePortName
        self.servicePort = servicePort
        self.transport = transport
        self.containerName = containerName
        self.containerPort = containerPort
        self.toPod = toPod
        self.disposition = disposition
        self.message = message
        self.agents = agents
        self.environment = environment
        self.mounts = mounts
        self.createdMilliseconds = createdMilliseconds
    }

    public var isActive: Bool { disposition == "ACTIVE" }

    /// The workstation ports its connections (or copies) are dialled at: the target port, or a
    /// replace's ports' targets; an ingest has none.
    public var targetPorts: [Int] {
        switch kind {
        case .intercept, .wiretap: [targetPort]
        case .replace: replacedPorts.map(\.targetPort)
        case .ingest: []
        }
    }

    /// The service port as Telepresence prints it: "http/TCP", or "8080/TCP" for an unnamed one.
    public var servicePortIdentifier: String {
        let port = servicePortName.isEmpty ? (servicePort > 0 ? "\(servicePort)" : portIdentifier) : servicePortName
        return port.isEmpty ? "" : "\(port)/\(transport.isEmpty ? "TCP" : transport)"
    }

    /// The environment a handler gets: the engaged container's, plus Telepresence's own variables.
    public var handlerEnvironment: [String: String] {
        var env = environment
        env["TELEPRESENCE_INTERCEPT_ID"] = id
        if env["TELEPRESENCE_CONTAINER"] == nil { env["TELEPRESENCE_CONTAINER"] = containerName }
        if env["TELEPRESENCE_MOUNTS"] == nil { env["TELEPRESENCE_MOUNTS"] = mounts.joined(separator: ":") }
        return env
    }
}

/// What `telepresence intercept`, `wiretap`, `replace` and `ingest` ask the daemon for.
public struct InterceptRequest: Sendable, Equatable {
    public var name: String
    public var kind: EngagementKind
    /// intercept and wiretap: only these HTTP requests.
    public var filter: HTTPFilter?
    /// The workload; empty means `name`.
    public var workload: String
    /// Empty means the connected namespace.
    public var namespace: String
    /// intercept, wiretap: the service port's name or number; replace: empty (every port) or
    /// comma-separated LOCAL:CONTAINERPORT entries.
    public var portIdentifier: String
    public var serviceName: String
    public var containerName: String
    public var targetHost: String
    public var targetPort: Int
    public var toPod: [String]

    public init(
        name: String, kind: EngagementKind = .intercept, filter: HTTPFilter? = nil, workload: String = "",
        namespace: String = "", portIdentifier: String = "", serviceName: String = "",
        containerName: String = "", targetHost: String = "127.0.0.1", targetPort: Int = 8080, toPod: [String] = []
    ) {
        self.name = name
        self.kind = kind
        self.filter = filter
        self.workload = workload
        self.namespace = namespace
        self.portIdentifier = portIdentifier
        self.serviceName = serviceName
        self.containerName = containerName
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.toPod = toPod
    }
}

/// The daemon's answer to intercept and leave: the intercept, or why not.
public struct InterceptOutcome: Sendable, Equatable {
    /// Why it failed, in connector.proto's terms.
    public enum Category: String, Sendable, Equatable {
        case notConnected = "NOT_CONNECTED"
        case noManager = "NO_MANAGER"
        case notFound = "NOT_FOUND"
        case badArgs = "BAD_ARGS"
        case conflict = "CONFLICT"
        case agentError = "AGENT_ERROR"
    }

    public var intercept: Intercept?
    /// One sentence; empty when it worked.
    public var errorText: String
    public var category: Category?
    /// "agent port-forward" or "through the traffic-manager".
    public var path: String

    public init(intercept: Intercept? = nil, errorText: String = "", category: Category? = nil, path: String = "") {
        self.intercept = intercept
        self.errorText = errorText
        self.category = category
        self.path = path
    }

    public static func failed(_ category: Category, _ text: String) -> InterceptOutcome {
        InterceptOutcome(errorText: text, category: category)
    }
}

/// The answer to `uninstall`.
public struct UninstallOutcome: Sendable, Equatable {
    public var removed: [String]
    public var errorText: String

    public init(removed: [String] = [], errorText: String = "") {
        self.removed = removed
        self.errorText = errorText
    }
}
