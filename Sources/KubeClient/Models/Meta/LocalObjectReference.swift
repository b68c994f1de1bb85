/// Names an object in the same namespace, e.g. an image pull secret.
public struct LocalObjectReference: Codable, Sendable, Hashable {
    public var name: String?

    public init(name: String? = nil) {
        self.name = name
    }
}
