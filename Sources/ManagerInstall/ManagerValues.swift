import Foundation
import KubeClient
import Diagnostics

/// The values of the traffic-manager's install, named as Telepresence's Helm chart names them
/// where the chart has them (`image.registry`, `apiPort`, `logLevel`, `managerRbac.namespaced`,
/// `podCIDRStrategy`, ...). Free-form Kubernetes fields (resources, securityContext, ...) stay
/// JSON and are copied into the manifests as given.
public struct ManagerValues: Codable, Sendable, Equatable {
    public struct Image: Codable, Sendable, Equatable {
        public var registry: String
        public var name: String
        public var tag: String
        public var pullPolicy: String
        public var imagePullSecrets: JSONValue
        /// `registry/name:tag`.
        public var reference: String { "\(registry)/\(name):\(tag)" }
    }

    public struct ManagerRbac: Codable, Sendable, Equatable {
        /// Whether to create the manager's service account's roles at all.
        public var create: Bool
        /// Roles in the listed namespaces only, nothing cluster-scoped.
        public var namespaced: Bool
        public var namespaces: [String]
    }

    public struct Timeouts: Codable, Sendable, Equatable {
        public var agentArrival: String
    }

    public struct Client: Codable, Sendable, Equatable {
        public var connectionTTL: String
    }

    public var image: Image
    public var apiPort: Int
    public var logLevel: String
    public var replicaCount: Int
    public var podCIDRStrategy: String
    public var podCIDRs: [String]
    public var managerRbac: ManagerRbac
    /// Telepresence 2.22+'s top-level list of managed namespaces; when not empty it implies a
    /// namespaced install of these namespaces.
    public var namespaces: [String]
    public var timeouts: Timeouts
    public var client: Client
    /// How long the manager keeps a client session without a keepalive (ours, not the chart's).
    public var clientSessionTTL: String
    /// The cluster domain when the manager cannot read it from its resolv.conf (ours).
    public var clusterDomain: String
    public var resources: JSONValue
    public var securityContext: JSONValue
    public var podSecurityContext: JSONValue
    public var nodeSelector: JSONValue
    public var tolerations: JSONValue
    public var affinity: JSONValue
    public var podAnnotations: JSONValue
    public var podLabels: JSONValue

    /// The default image of the traffic-manager; the sandbox maps this repository to the
    /// `traffic` executable built beside it.
    public static let defaultImageRegistry = "ghcr.io/telepresence-swift"
    public static let defaultImageName = "traffic"

    public static var defaults: ManagerValues {
        ManagerValues(
            image: Image(
                registry: defaultImageRegistry, name: defaultImageName, tag: ProductVersion.current,
                pullPolicy: "IfNotPresent", imagePullSecrets: []),
            apiPort: 8081, logLevel: "info", replicaCount: 1,
            podCIDRStrategy: "auto", podCIDRs: [],
            managerRbac: ManagerRbac(create: true, namespaced: false, namespaces: []),
            namespaces: [],
            timeouts: Timeouts(agentArrival: "30s"),
            client: Client(connectionTTL: "24h"),
            clientSessionTTL: "30s", clusterDomain: "",
            resources: ["requests": ["cpu": "50m", "memory": "64Mi"], "limits": ["memory": "256Mi"]],
            securityContext: [
                "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 1000,
                "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]],
            ],
            podSecurityContext: [:], nodeSelector: [:], tolerations: [], affinity: [:],
            podAnnotations: [:], podLabels: [:])
    }

    /// The namespaces a namespaced install manages, or nil for a cluster-wide install.
    public var managedNamespaces: [String]? {
        if !namespaces.isEmpty { return namespaces }
        return managerRbac.namespaced ? managerRbac.namespaces : nil
    }

    /// Paths whose content is free-form (any keys allowed below them).
    static let openPaths: Set<String> = [
        "resources", "securityContext", "podSecurityContext", "nodeSelector", "tolerations", "affinity",
        "podAnnotations", "podLabels", "image.imagePullSecrets",
    ]

    /// Values from the defaults, then each values file (deep merge), then each `--set`.
    public static func resolve(files: [JSONValue], sets: [String]) throws(InstallError) -> ManagerValues {
        var tree: JSONValue
        do { tree = try JSONValue(encoding: defaults) } catch { throw .invalidValues("\(error)") }
        var user: JSONValue = [:]
        for file in files { user = ValueOverrides.merge(user, file) }
        for assignment in sets { try ValueOverrides.apply(assignment, to: &user) }
        try ValueOverrides.checkKnown(user, against: tree, openPaths: openPaths)
        tree = ValueOverrides.merge(tree, user)
        do {
            let values = try tree.decode(as: ManagerValues.self)
            try values.validate()
            return values
        } catch let error as InstallError {
            throw error
        } catch {
            throw .invalidValues(KubeClientDecoding.describe(error))
        }
    }

    func validate() throws(InstallError) {
        guard (1...65535).contains(apiPort) else { throw .invalidValues("apiPort \(apiPort) is not a TCP port (1-65535)") }
        guard replicaCount >= 0 else { throw .invalidValues("replicaCount must not be negative") }
        let strategies = ["auto", "nodePodCIDRs", "coverPodIPs", "environment"]
        guard strategies.contains(podCIDRStrategy) else {
            throw .invalidValues("podCIDRStrategy \(podCIDRStrategy) is unknown; use one of \(strategies.joined(separator: ", "))")
        }
        if podCIDRStrategy == "environment" && podCIDRs.isEmpty {
            throw .invalidValues("podCIDRStrategy environment needs podCIDRs, e.g. --set podCIDRs={10.244.0.0/16}")
        }
        if managerRbac.namespaced && managerRbac.namespaces.isEmpty && namespaces.isEmpty {
            throw .invalidValues("managerRbac.namespaced needs the namespaces to manage: --set managerRbac.namespaces={a,b}")
        }
        guard LogLevelControl.parse(logLevel) != nil else {
            throw .invalidValues("logLevel \(logLevel) is unknown; use error, warning, info, debug or trace")
        }
    }
}

/// Turns a decoding error into a path and a reason.
enum KubeClientDecoding {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)) must be \(type), not null"
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
