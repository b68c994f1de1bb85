import KubeClient

/// The Kubernetes objects of a traffic-manager install, rendered from typed values: Namespace,
/// ServiceAccount, RBAC (a ClusterRole and its binding, or Roles in the managed namespaces only),
/// the headless Service `traffic-manager` (port `api`) and the Deployment `traffic-manager`.
/// Pure: the same values always give the same objects, in the order they are applied.
public struct ManagerManifests: Sendable {
    /// The name of the release, the Deployment, the Service and the ServiceAccount.
    public static let name = "traffic-manager"
    /// The labels the Deployment selects its pods by (as Telepresence's chart sets them).
    public static let selector: JSONValue = ["app": "traffic-manager", "telepresence": "manager"]
    public static let selectorString = "app=traffic-manager,telepresence=manager"

    public let namespace: String
    public let values: ManagerValues

    public init(namespace: String, values: ManagerValues) {
        self.namespace = namespace
        self.values = values
    }

    /// Every object, in apply order. `includeNamespace` adds the Namespace object (install with
    /// --create-namespace, and template).
    public func objects(includeNamespace: Bool) -> [JSONValue] {
        var objects: [JSONValue] = []
        if includeNamespace {
            objects.append(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace), "labels": labels]])
        }
        objects.append(["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(Self.name)])
        if values.managerRbac.create { objects += rbac() }
        objects.append(service())
        objects.append(deployment())
        return objects
    }

    var labels: JSONValue {
        [
            "app": "traffic-manager", "telepresence": "manager",
            "app.kubernetes.io/name": "traffic-manager", "app.kubernetes.io/instance": "traffic-manager",
            "app.kubernetes.io/managed-by": "telepresence", "app.kubernetes.io/version": .string(values.image.tag),
        ]
    }

    private func metadata(_ name: String, namespace: String? = nil) -> JSONValue {
        ["name": .string(name), "namespace": .string(namespace ?? self.namespace), "labels": labels]
    }

    private var clusterScopedName: String { "traffic-manager-\(namespace)" }

    /// What the manager reads and changes in a namespace it manages.
    private var workloadRules: [JSONValue] {
        [
            ["apiGroups": [""], "resources": ["pods", "services", "endpoints"], "verbs": ["get", "list", "watch"]],
            ["apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]],
            ["apiGroups": [""], "resources": ["services"], "verbs": ["update"]],
            ["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create", "update", "delete"]],
            ["apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets"], "verbs": ["get", "list", "watch", "patch", "update"]],
            ["apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "watch"]],
        ]
    }

    private func rbac() -> [JSONValue] {
        let subject: JSONValue = ["kind": "ServiceAccount", "name": .string(Self.name), "namespace": .string(namespace)]
        if let managed = values.managedNamespaces {
            // Namespaced: nothing cluster-scoped. The manager's own namespace also needs the
            // dry-run Service create of the service-subnet probe and its pods for cluster info.
            var objects: [JSONValue] = []
            var all = managed
            if !all.contains(namespace) { all.append(namespace) }
            for ns in all {
                var rules = managed.contains(ns) ? workloadRules : []
                if ns == namespace {
                    rules.append(["apiGroups": [""], "resources": ["services"], "verbs": ["create"]])
                    rules.append(["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]])
                }
                objects.append(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(Self.name, namespace: ns), "rules": .array(rules)])
                objects.append([
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata(Self.name, namespace: ns),
                    "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(Self.name)],
                    "subjects": [subject],
                ])
            }
            return objects
        }
        let rules = workloadRules + [
            ["apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": ["get", "list", "watch"]],
            ["apiGroups": [""], "resources": ["services"], "verbs": ["create"]],
        ]
        return [
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": ["name": .string(clusterScopedName), "labels": labels], "rules": .array(rules)],
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": ["name": .string(clusterScopedName), "labels": labels],
             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(clusterScopedName)],
             "subjects": [subject]],
        ]
    }

    private func service() -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": metadata(Self.name),
            "spec": [
                "clusterIP": "None", "selector": Self.selector,
                "ports": [["name": "api", "port": .number(Double(values.apiPort)), "targetPort": "api", "protocol": "TCP"]],
            ],
        ]
    }

    private func deployment() -> JSONValue {
        var env: [JSONValue] = [
            ["name": "MANAGER_NAMESPACE", "valueFrom": ["fieldRef": ["fieldPath": "metadata.namespace"]]],
            ["name": "POD_IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
            ["name": "SERVER_PORT", "value": .string(String(values.apiPort))],
            ["name": "LOG_LEVEL", "value": .string(values.logLevel)],
            ["name": "CLIENT_SESSION_TTL", "value": .string(values.clientSessionTTL)],
            ["name": "CLIENT_CONNECTION_TTL", "value": .string(values.client.connectionTTL)],
            ["name": "AGENT_ARRIVAL_TIMEOUT", "value": .string(values.timeouts.agentArrival)],
            ["name": "POD_CIDR_STRATEGY", "value": .string(values.podCIDRStrategy)],
        ]
        if !values.podCIDRs.isEmpty { env.append(["name": "POD_CIDRS", "value": .string(values.podCIDRs.joined(separator: " "))]) }
        if let managed = values.managedNamespaces {
            env.append(["name": "MANAGED_NAMESPACES", "value": .string(managed.joined(separator: " "))])
        }
        if !values.clusterDomain.isEmpty { env.append(["name": "CLUSTER_DOMAIN", "value": .string(values.clusterDomain)]) }

        var podLabels = Self.selector.objectValue ?? [:]
        for (key, value) in values.podLabels.objectValue ?? [:] { podLabels[key] = value }
        var podMetadata: JSONValue = ["labels": .object(podLabels)]
        if let annotations = values.podAnnotations.objectValue, !annotations.isEmpty { podMetadata["annotations"] = .object(annotations) }

        let container: JSONValue = [
            "name": "traffic-manager",
            "image": .string(values.image.reference),
            "imagePullPolicy": .string(values.image.pullPolicy),
            "args": ["manager"],
            "ports": [
                ["name": "api", "containerPort": .number(Double(values.apiPort)), "protocol": "TCP"],
                // The data plane: workstations' tunnels, reached by port-forward (API port + 1).
                ["name": "tunnel", "containerPort": .number(Double(values.apiPort + 1)), "protocol": "TCP"],
            ],
            "env": .array(env),
            "readinessProbe": ["tcpSocket": ["port": "api"], "periodSeconds": 2, "failureThreshold": 3],
            "resources": values.resources,
            "securityContext": values.securityContext,
        ]
        var podSpec: JSONValue = ["serviceAccountName": .string(Self.name), "containers": [container]]
        if values.podSecurityContext.objectValue?.isEmpty == false { podSpec["securityContext"] = values.podSecurityContext }
        if values.nodeSelector.objectValue?.isEmpty == false { podSpec["nodeSelector"] = values.nodeSelector }
        if values.tolerations.arrayValue?.isEmpty == false { podSpec["tolerations"] = values.tolerations }
        if values.affinity.objectValue?.isEmpty == false { podSpec["affinity"] = values.affinity }
        if values.image.imagePullSecrets.arrayValue?.isEmpty == false { podSpec["imagePullSecrets"] = values.image.imagePullSecrets }

        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(Self.name),
            "spec": [
                "replicas": .number(Double(values.replicaCount)),
                "selector": ["matchLabels": Self.selector],
                "template": ["metadata": podMetadata, "spec": podSpec],
            ],
        ]
    }
}
