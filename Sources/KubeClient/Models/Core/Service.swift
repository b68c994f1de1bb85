/// A Service (`v1`): a stable virtual IP and DNS name in front of the Pods its selector picks.
public struct Service: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "Service"
    public static let plural = "services"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ServiceSpec?
    public var status: ServiceStatus?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: ServiceSpec? = nil, status: ServiceStatus? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// How a Service is reached and which Pods back it.
public struct ServiceSpec: Codable, Sendable, Hashable {
    /// `ClusterIP` (the default), `NodePort`, `LoadBalancer` or `ExternalName`.
    public var type: String?
    /// `"None"` for a headless Service.
    public var clusterIP: String?
    public var clusterIPs: [String]?
    public var ports: [ServicePort]?
    /// Pods with all these labels back the Service; `nil` means Endpoints are managed by hand.
    public var selector: [String: String]?
    /// `None` or `ClientIP`.
    public var sessionAffinity: String?
    public var sessionAffinityConfig: JSONValue?
    /// The DNS name an `ExternalName` Service is a CNAME for.
    public var externalName: String?
    public var externalIPs: [String]?
    public var externalTrafficPolicy: String?
    public var internalTrafficPolicy: String?
    public var ipFamilies: [String]?
    public var ipFamilyPolicy: String?
    public var publishNotReadyAddresses: Bool?
    public var loadBalancerIP: String?
    public var healthCheckNodePort: Int?
    public var allocateLoadBalancerNodePorts: Bool?

    public init(
        type: String? = nil, clusterIP: String? = nil, clusterIPs: [String]? = nil,
        ports: [ServicePort]? = nil, selector: [String: String]? = nil, sessionAffinity: String? = nil,
        sessionAffinityConfig: JSONValue? = nil, externalName: String? = nil, externalIPs: [String]? = nil,
        externalTrafficPolicy: String? = nil, internalTrafficPolicy: String? = nil,
        ipFamilies: [String]? = nil, ipFamilyPolicy: String? = nil, publishNotReadyAddresses: Bool? = nil,
        loadBalancerIP: String? = nil, healthCheckNodePort: Int? = nil,
        allocateLoadBalancerNodePorts: Bool? = nil
    ) {
        self.type = type
        self.clusterIP = clusterIP
        self.clusterIPs = clusterIPs
        self.ports = ports
        self.selector = selector
        self.sessionAffinity = sessionAffinity
        self.sessionAffinityConfig = sessionAffinityConfig
        self.externalName = externalName
        self.externalIPs = externalIPs
        self.externalTrafficPolicy = externalTrafficPolicy
        self.internalTrafficPolicy = internalTrafficPolicy
        self.ipFamilies = ipFamilies
        self.ipFamilyPolicy = ipFamilyPolicy
        self.publishNotReadyAddresses = publishNotReadyAddresses
        self.loadBalancerIP = loadBalancerIP
        self.healthCheckNodePort = healthCheckNodePort
        self.allocateLoadBalancerNodePorts = allocateLoadBalancerNodePorts
    }
}

/// A port of a Service and where it leads in the Pods.
public struct ServicePort: Codable, Sendable, Hashable {
    /// Required when the Service has more than one port.
    public var name: String?
    /// `TCP` (the default), `UDP` or `SCTP`.
    public var `protocol`: String?
    public var appProtocol: String?
    public var port: Int
    /// A port number, or the name of a container port; the same as `port` when `nil`.
    public var targetPort: IntOrString?
    public var nodePort: Int?

    public init(
        name: String? = nil, protocol: String? = nil, appProtocol: String? = nil, port: Int,
        targetPort: IntOrString? = nil, nodePort: Int? = nil
    ) {
        self.name = name
        self.protocol = `protocol`
        self.appProtocol = appProtocol
        self.port = port
        self.targetPort = targetPort
        self.nodePort = nodePort
    }
}

/// The observed state of a Service.
public struct ServiceStatus: Codable, Sendable, Hashable {
    public var loadBalancer: LoadBalancerStatus?
    public var conditions: [Condition]?

    public init(loadBalancer: LoadBalancerStatus? = nil, conditions: [Condition]? = nil) {
        self.loadBalancer = loadBalancer
        self.conditions = conditions
    }
}

/// The addresses of a Service's load balancer.
public struct LoadBalancerStatus: Codable, Sendable, Hashable {
    public var ingress: [LoadBalancerIngress]?

    public init(ingress: [LoadBalancerIngress]? = nil) {
        self.ingress = ingress
    }
}

/// One address of a load balancer.
public struct LoadBalancerIngress: Codable, Sendable, Hashable {
    public var ip: String?
    public var hostname: String?
    public var ipMode: String?
    public var ports: [JSONValue]?

    public init(
        ip: String? = nil, hostname: String? = nil, ipMode: String? = nil, ports: [JSONValue]? = nil
    ) {
        self.ip = ip
        self.hostname = hostname
        self.ipMode = ipMode
        self.ports = ports
    }
}
