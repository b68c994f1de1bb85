/// `autoscaling/v1 Scale` reduced to what callers read: desired and observed replicas.
public struct ScaleInfo: Sendable, Hashable {
    public var replicas: Int
    public var observedReplicas: Int
    /// The label selector of the pods, as a string (`app=web`).
    public var selector: String?
}
