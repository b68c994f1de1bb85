/// Where a Pod stands, as reported by its node: phase, addresses, conditions and each
/// container's state.
public struct PodStatus: Codable, Sendable, Hashable {
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String?
    /// E.g. `PodScheduled`, `Initialized`, `ContainersReady`, `Ready`.
    public var conditions: [Condition]?
    public var message: String?
    public var reason: String?
    public var nominatedNodeName: String?
    public var hostIP: String?
    public var hostIPs: [PodIP]?
    public var podIP: String?
    /// One address per IP family; the first equals `podIP`.
    public var podIPs: [PodIP]?
    public var startTime: KubeTime?
    public var initContainerStatuses: [ContainerStatus]?
    public var containerStatuses: [ContainerStatus]?
    public var qosClass: String?

    public init(
        phase: String? = nil, conditions: [Condition]? = nil, message: String? = nil, reason: String? = nil,
        nominatedNodeName: String? = nil, hostIP: String? = nil, hostIPs: [PodIP]? = nil, podIP: String? = nil,
        podIPs: [PodIP]? = nil, startTime: KubeTime? = nil, initContainerStatuses: [ContainerStatus]? = nil,
        containerStatuses: [ContainerStatus]? = nil, qosClass: String? = nil
    ) {
        self.phase = phase
        self.conditions = conditions
        self.message = message
        self.reason = reason
        self.nominatedNodeName = nominatedNodeName
        self.hostIP = hostIP
        self.hostIPs = hostIPs
        self.podIP = podIP
        self.podIPs = podIPs
        self.startTime = startTime
        self.initContainerStatuses = initContainerStatuses
        self.containerStatuses = containerStatuses
        self.qosClass = qosClass
    }
}

/// One IP address of a Pod or its host (`status.podIPs[]`, `status.hostIPs[]`).
public struct PodIP: Codable, Sendable, Hashable {
    public var ip: String

    public init(ip: String) {
        self.ip = ip
    }
}

/// The observed state of one container of a Pod.
public struct ContainerStatus: Codable, Sendable, Hashable {
    public var name: String
    public var state: ContainerState?
    /// The previous run, e.g. why it last terminated.
    public var lastState: ContainerState?
    public var ready: Bool?
    public var started: Bool?
    public var restartCount: Int?
    public var image: String?
    public var imageID: String?
    /// E.g. `containerd://<id>`.
    public var containerID: String?

    public init(
        name: String, state: ContainerState? = nil, lastState: ContainerState? = nil, ready: Bool? = nil,
        started: Bool? = nil, restartCount: Int? = nil, image: String? = nil, imageID: String? = nil,
        containerID: String? = nil
    ) {
        self.name = name
        self.state = state
        self.lastState = lastState
        self.ready = ready
        self.started = started
        self.restartCount = restartCount
        self.image = image
        self.imageID = imageID
        self.containerID = containerID
    }
}

/// Exactly one of the three is set.
public struct ContainerState: Codable, Sendable, Hashable {
    public var running: ContainerStateRunning?
    public var waiting: ContainerStateWaiting?
    public var terminated: ContainerStateTerminated?

    public init(
        running: ContainerStateRunning? = nil, waiting: ContainerStateWaiting? = nil,
        terminated: ContainerStateTerminated? = nil
    ) {
        self.running = running
        self.waiting = waiting
        self.terminated = terminated
    }
}

/// A container that is running.
public struct ContainerStateRunning: Codable, Sendable, Hashable {
    public var startedAt: KubeTime?

    public init(startedAt: KubeTime? = nil) {
        self.startedAt = startedAt
    }
}

/// A container that does not run yet, with why (e.g. `ContainerCreating`, `CrashLoopBackOff`).
public struct ContainerStateWaiting: Codable, Sendable, Hashable {
    public var reason: String?
    public var message: String?

    public init(reason: String? = nil, message: String? = nil) {
        self.reason = reason
        self.message = message
    }
}

/// A container that has exited.
public struct ContainerStateTerminated: Codable, Sendable, Hashable {
    public var exitCode: Int
    public var signal: Int?
    public var reason: String?
    public var message: String?
    public var startedAt: KubeTime?
    public var finishedAt: KubeTime?
    public var containerID: String?

    public init(
        exitCode: Int, signal: Int? = nil, reason: String? = nil, message: String? = nil,
        startedAt: KubeTime? = nil, finishedAt: KubeTime? = nil, containerID: String? = nil
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.message = message
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.containerID = containerID
    }
}
