/// A Node (`v1`, cluster-scoped): a machine that runs Pods. Its `podCIDR(s)` tell which subnet
/// its Pods get addresses from.
public struct Node: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "Node"
    public static let plural = "nodes"
    public static let namespaced = false

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NodeSpec?
    public var status: NodeStatus?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: NodeSpec? = nil, status: NodeStatus? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The configuration of a Node.
public struct NodeSpec: Codable, Sendable, Hashable {
    public var podCIDR: String?
    /// One subnet per IP family; the first equals `podCIDR`.
    public var podCIDRs: [String]?
    public var providerID: String?
    public var unschedulable: Bool?
    public var taints: [Taint]?

    public init(
        podCIDR: String? = nil, podCIDRs: [String]? = nil, providerID: String? = nil,
        unschedulable: Bool? = nil, taints: [Taint]? = nil
    ) {
        self.podCIDR = podCIDR
        self.podCIDRs = podCIDRs
        self.providerID = providerID
        self.unschedulable = unschedulable
        self.taints = taints
    }
}

/// Keeps Pods off a Node unless they tolerate it.
public struct Taint: Codable, Sendable, Hashable {
    public var key: String
    public var value: String?
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    public var effect: String
    public var timeAdded: KubeTime?

    public init(key: String, value: String? = nil, effect: String, timeAdded: KubeTime? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }
}

/// The observed state of a Node.
public struct NodeStatus: Codable, Sendable, Hashable {
    public var capacity: [String: Quantity]?
    public var allocatable: [String: Quantity]?
    public var phase: String?
    /// E.g. `Ready`, `MemoryPressure`.
    public var conditions: [Condition]?
    public var addresses: [NodeAddress]?
    public var daemonEndpoints: JSONValue?
    public var nodeInfo: NodeSystemInfo?
    public var images: [JSONValue]?

    public init(
        capacity: [String: Quantity]? = nil, allocatable: [String: Quantity]? = nil, phase: String? = nil,
        conditions: [Condition]? = nil, addresses: [NodeAddress]? = nil, daemonEndpoints: JSONValue? = nil,
        nodeInfo: NodeSystemInfo? = nil, images: [JSONValue]? = nil
    ) {
        self.capacity = capacity
        self.allocatable = allocatable
        self.phase = phase
        self.conditions = conditions
        self.addresses = addresses
        self.daemonEndpoints = daemonEndpoints
        self.nodeInfo = nodeInfo
        self.images = images
    }
}

/// An address of a Node.
public struct NodeAddress: Codable, Sendable, Hashable {
    /// `InternalIP`, `ExternalIP`, `Hostname`, ...
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}

/// Versions and identity of a Node's software.
public struct NodeSystemInfo: Codable, Sendable, Hashable {
    public var machineID: String?
    public var systemUUID: String?
    public var bootID: String?
    public var kernelVersion: String?
    public var osImage: String?
    public var containerRuntimeVersion: String?
    public var kubeletVersion: String?
    public var kubeProxyVersion: String?
    public var operatingSystem: String?
    public var architecture: String?

    public init(
        machineID: String? = nil, systemUUID: String? = nil, bootID: String? = nil,
        kernelVersion: String? = nil, osImage: String? = nil, containerRuntimeVersion: String? = nil,
        kubeletVersion: String? = nil, kubeProxyVersion: String? = nil, operatingSystem: String? = nil,
        architecture: String? = nil
    ) {
        self.machineID = machineID
        self.systemUUID = systemUUID
        self.bootID = bootID
        self.kernelVersion = kernelVersion
        self.osImage = osImage
        self.containerRuntimeVersion = containerRuntimeVersion
        self.kubeletVersion = kubeletVersion
        self.kubeProxyVersion = kubeProxyVersion
        self.operatingSystem = operatingSystem
        self.architecture = architecture
    }
}
