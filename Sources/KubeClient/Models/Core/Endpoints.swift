/// Endpoints (`v1`): the addresses and ports behind a Service, named like the Service.
public struct Endpoints: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "Endpoints"
    public static let plural = "endpoints"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var subsets: [EndpointSubset]?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(metadata: ObjectMeta = ObjectMeta(), subsets: [EndpointSubset]? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.subsets = subsets
    }
}

/// Addresses that share the same ports.
public struct EndpointSubset: Codable, Sendable, Hashable {
    /// Ready addresses.
    public var addresses: [EndpointAddress]?
    /// Addresses of Pods that are not ready yet.
    public var notReadyAddresses: [EndpointAddress]?
    public var ports: [EndpointPort]?

    public init(
        addresses: [EndpointAddress]? = nil, notReadyAddresses: [EndpointAddress]? = nil,
        ports: [EndpointPort]? = nil
    ) {
        self.addresses = addresses
        self.notReadyAddresses = notReadyAddresses
        self.ports = ports
    }
}

/// One backend address, usually a Pod.
public struct EndpointAddress: Codable, Sendable, Hashable {
    public var ip: String
    public var hostname: String?
    public var nodeName: String?
    /// The Pod behind the address.
    public var targetRef: ObjectReference?

    public init(
        ip: String, hostname: String? = nil, nodeName: String? = nil, targetRef: ObjectReference? = nil
    ) {
        self.ip = ip
        self.hostname = hostname
        self.nodeName = nodeName
        self.targetRef = targetRef
    }
}

/// A port of the addresses of a subset.
public struct EndpointPort: Codable, Sendable, Hashable {
    /// The name of the Service port it serves.
    public var name: String?
    public var port: Int
    public var `protocol`: String?
    public var appProtocol: String?

    public init(name: String? = nil, port: Int, protocol: String? = nil, appProtocol: String? = nil) {
        self.name = name
        self.port = port
        self.protocol = `protocol`
        self.appProtocol = appProtocol
    }
}
