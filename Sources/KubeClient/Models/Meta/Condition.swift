/// A status condition, e.g. a Pod's `Ready` or a Deployment's `Available`. One type serves all
/// kinds; the timestamps a kind does not use stay `nil`.
public struct Condition: Codable, Sendable, Hashable {
    public var type: String
    /// `"True"`, `"False"` or `"Unknown"` (strings, not booleans, on the wire).
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: KubeTime?
    /// Pods.
    public var lastProbeTime: KubeTime?
    /// Nodes.
    public var lastHeartbeatTime: KubeTime?
    /// Deployments.
    public var lastUpdateTime: KubeTime?
    public var observedGeneration: Int?

    public init(
        type: String, status: String, reason: String? = nil, message: String? = nil,
        lastTransitionTime: KubeTime? = nil, lastProbeTime: KubeTime? = nil, lastHeartbeatTime: KubeTime? = nil,
        lastUpdateTime: KubeTime? = nil, observedGeneration: Int? = nil
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.lastProbeTime = lastProbeTime
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastUpdateTime = lastUpdateTime
        self.observedGeneration = observedGeneration
    }

    /// Whether `status` is `"True"`.
    public var isTrue: Bool { status == "True" }
}

extension Array where Element == Condition {
    /// The condition of the given type, e.g. `pod.status?.conditions?.first(type: "Ready")`.
    public func first(type: String) -> Condition? {
        first { $0.type == type }
    }
}
