/// One container of a Pod: image, command, ports, environment, mounts and probes.
public struct Container: Codable, Sendable, Hashable {
    public var name: String
    public var image: String?
    /// Replaces the image's entrypoint.
    public var command: [String]?
    /// Replaces the image's command (arguments to the entrypoint).
    public var args: [String]?
    public var workingDir: String?
    public var ports: [ContainerPort]?
    public var env: [EnvVar]?
    public var envFrom: [EnvFromSource]?
    public var resources: ResourceRequirements?
    public var volumeMounts: [VolumeMount]?
    public var livenessProbe: Probe?
    public var readinessProbe: Probe?
    public var startupProbe: Probe?
    public var lifecycle: JSONValue?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: String?
    /// `Always`, `IfNotPresent` or `Never`.
    public var imagePullPolicy: String?
    public var securityContext: JSONValue?
    public var stdin: Bool?
    public var stdinOnce: Bool?
    public var tty: Bool?
    /// `Always` on an init container makes it a sidecar.
    public var restartPolicy: String?

    public init(
        name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil,
        workingDir: String? = nil, ports: [ContainerPort]? = nil, env: [EnvVar]? = nil,
        envFrom: [EnvFromSource]? = nil, resources: ResourceRequirements? = nil,
        volumeMounts: [VolumeMount]? = nil, livenessProbe: Probe? = nil, readinessProbe: Probe? = nil,
        startupProbe: Probe? = nil, lifecycle: JSONValue? = nil, terminationMessagePath: String? = nil,
        terminationMessagePolicy: String? = nil, imagePullPolicy: String? = nil,
        securityContext: JSONValue? = nil, stdin: Bool? = nil, stdinOnce: Bool? = nil, tty: Bool? = nil,
        restartPolicy: String? = nil
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.workingDir = workingDir
        self.ports = ports
        self.env = env
        self.envFrom = envFrom
        self.resources = resources
        self.volumeMounts = volumeMounts
        self.livenessProbe = livenessProbe
        self.readinessProbe = readinessProbe
        self.startupProbe = startupProbe
        self.lifecycle = lifecycle
        self.terminationMessagePath = terminationMessagePath
        self.terminationMessagePolicy = terminationMessagePolicy
        self.imagePullPolicy = imagePullPolicy
        self.securityContext = securityContext
        self.stdin = stdin
        self.stdinOnce = stdinOnce
        self.tty = tty
        self.restartPolicy = restartPolicy
    }
}

/// A port a container listens on.
public struct ContainerPort: Codable, Sendable, Hashable {
    /// A Service's `targetPort` can refer to the port by this name.
    public var name: String?
    public var containerPort: Int
    /// `TCP` (the default), `UDP` or `SCTP`.
    public var `protocol`: String?
    public var hostPort: Int?
    public var hostIP: String?

    public init(
        name: String? = nil, containerPort: Int, protocol: String? = nil, hostPort: Int? = nil,
        hostIP: String? = nil
    ) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
        self.hostPort = hostPort
        self.hostIP = hostIP
    }
}

/// Requests and limits per resource name, e.g. `["cpu": "100m", "memory": "128Mi"]`.
public struct ResourceRequirements: Codable, Sendable, Hashable {
    public var limits: [String: Quantity]?
    public var requests: [String: Quantity]?
    public var claims: [JSONValue]?

    public init(
        limits: [String: Quantity]? = nil, requests: [String: Quantity]? = nil, claims: [JSONValue]? = nil
    ) {
        self.limits = limits
        self.requests = requests
        self.claims = claims
    }
}

/// Where a volume of the Pod appears in a container.
public struct VolumeMount: Codable, Sendable, Hashable {
    /// The name of a `Volume` of the Pod.
    public var name: String
    public var mountPath: String
    public var readOnly: Bool?
    public var subPath: String?
    public var subPathExpr: String?
    public var mountPropagation: String?
    public var recursiveReadOnly: String?

    public init(
        name: String, mountPath: String, readOnly: Bool? = nil, subPath: String? = nil,
        subPathExpr: String? = nil, mountPropagation: String? = nil, recursiveReadOnly: String? = nil
    ) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
        self.subPath = subPath
        self.subPathExpr = subPathExpr
        self.mountPropagation = mountPropagation
        self.recursiveReadOnly = recursiveReadOnly
    }
}
