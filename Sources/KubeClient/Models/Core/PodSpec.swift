/// What a Pod runs and how: its containers, volumes, identity and placement. Scheduling details
/// this project never reads (affinity, tolerations, security context) stay JSON.
public struct PodSpec: Codable, Sendable, Hashable {
    public var containers: [Container]
    /// Run to completion, in order, before `containers` start.
    public var initContainers: [Container]?
    public var volumes: [Volume]?
    public var serviceAccountName: String?
    /// Deprecated alias of `serviceAccountName` that the server still fills in.
    public var serviceAccount: String?
    public var automountServiceAccountToken: Bool?
    /// The node the Pod is bound to; set by the scheduler.
    public var nodeName: String?
    public var nodeSelector: [String: String]?
    /// `Always`, `OnFailure` or `Never`.
    public var restartPolicy: String?
    public var hostname: String?
    /// With `hostname`, gives the Pod the DNS name `<hostname>.<subdomain>.<namespace>.svc.<domain>`.
    public var subdomain: String?
    /// `ClusterFirst`, `ClusterFirstWithHostNet`, `Default` or `None`.
    public var dnsPolicy: String?
    public var dnsConfig: JSONValue?
    public var terminationGracePeriodSeconds: Int?
    public var activeDeadlineSeconds: Int?
    public var hostNetwork: Bool?
    public var hostPID: Bool?
    public var hostIPC: Bool?
    public var shareProcessNamespace: Bool?
    public var securityContext: JSONValue?
    public var imagePullSecrets: [LocalObjectReference]?
    public var affinity: JSONValue?
    public var tolerations: [JSONValue]?
    public var hostAliases: [JSONValue]?
    public var topologySpreadConstraints: [JSONValue]?
    public var schedulerName: String?
    public var priorityClassName: String?
    public var priority: Int?
    public var preemptionPolicy: String?
    public var runtimeClassName: String?
    public var enableServiceLinks: Bool?

    public init(
        containers: [Container], initContainers: [Container]? = nil, volumes: [Volume]? = nil,
        serviceAccountName: String? = nil, serviceAccount: String? = nil,
        automountServiceAccountToken: Bool? = nil, nodeName: String? = nil,
        nodeSelector: [String: String]? = nil, restartPolicy: String? = nil, hostname: String? = nil,
        subdomain: String? = nil, dnsPolicy: String? = nil, dnsConfig: JSONValue? = nil,
        terminationGracePeriodSeconds: Int? = nil, activeDeadlineSeconds: Int? = nil, hostNetwork: Bool? = nil,
        hostPID: Bool? = nil, hostIPC: Bool? = nil, shareProcessNamespace: Bool? = nil,
        securityContext: JSONValue? = nil, imagePullSecrets: [LocalObjectReference]? = nil,
        affinity: JSONValue? = nil, tolerations: [JSONValue]? = nil, hostAliases: [JSONValue]? = nil,
        topologySpreadConstraints: [JSONValue]? = nil, schedulerName: String? = nil,
        priorityClassName: String? = nil, priority: Int? = nil, preemptionPolicy: String? = nil,
        runtimeClassName: String? = nil, enableServiceLinks: Bool? = nil
    ) {
        self.containers = containers
        self.initContainers = initContainers
        self.volumes = volumes
        self.serviceAccountName = serviceAccountName
        self.serviceAccount = serviceAccount
        self.automountServiceAccountToken = automountServiceAccountToken
        self.nodeName = nodeName
        self.nodeSelector = nodeSelector
        self.restartPolicy = restartPolicy
        self.hostname = hostname
        self.subdomain = subdomain
        self.dnsPolicy = dnsPolicy
        self.dnsConfig = dnsConfig
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
        self.activeDeadlineSeconds = activeDeadlineSeconds
        self.hostNetwork = hostNetwork
        self.hostPID = hostPID
        self.hostIPC = hostIPC
        self.shareProcessNamespace = shareProcessNamespace
        self.securityContext = securityContext
        self.imagePullSecrets = imagePullSecrets
        self.affinity = affinity
        self.tolerations = tolerations
        self.hostAliases = hostAliases
        self.topologySpreadConstraints = topologySpreadConstraints
        self.schedulerName = schedulerName
        self.priorityClassName = priorityClassName
        self.priority = priority
        self.preemptionPolicy = preemptionPolicy
        self.runtimeClassName = runtimeClassName
        self.enableServiceLinks = enableServiceLinks
    }
}
