import KubeClient

/// The Kubernetes objects of a traffic-manager install, rendered from typed values: Namespace,
/// ServiceAccount, RBAC (a ClusterRole and its binding, or Roles in the managed namespaces only),
/// the headless Service `traffic-manager` (port `api`), the Deployment `traffic-manager` and the
/// agent injector's objects: Service `agent-injector` (443 → the manager's `https` 8443) and, given
/// its TLS, Secret `mutator-webhook-tls` and MutatingWebhookConfiguration
/// `agent-injector-webhook-<ns>`. Pure: the same values (and TLS) always give the same objects, in
/// the order they are applied.
public struct ManagerManifests: Sendable {
    /// The name of the release, the Deployment, the Service and the ServiceAccount.
    public static let name = "traffic-manager"
    /// The labels the Deployment selects its pods by (as Telepresence's chart sets them).
    public static let selector: JSONValue = ["app": "traffic-manager", "telepresence": "manager"]
    public static let selectorString = "app=traffic-manager,telepresence=manager"

    public let namespace: String
    public let values: ManagerValues
    /// The webhook's certificate; without it (`helm template`) neither the Secret nor the webhook
    /// configuration is rendered, and the manager runs without injecting.
    public let agentInjectorTLS: AgentInjectorTLS?

    public init(namespace: String, values: ManagerValues, agentInjectorTLS: AgentInjectorTLS? = nil) {
        self.namespace = namespace
        self.values = values
        self.agentInjectorTLS = agentInjectorTLS
    }

    /// The name of the MutatingWebhookConfiguration (cluster-scoped, hence the namespace in it).
    public var webhookConfigurationName: String { "agent-injector-webhook-\(namespace)" }

    /// Every object, in apply order. `includeNamespace` adds the Namespace object (install with
    /// --create-namespace, and template).
    public func objects(includeNamespace: Bool) -> [JSONValue] {
        var objects: [JSONValue] = []
        if includeNamespace {
            objects.append(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace), "labels": labels]])
        }
        objects.append(["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(Self.name)])
        if let tls = agentInjectorTLS {
            objects.append([
                "apiVersion": "v1", "kind": "Secret", "metadata": metadata(AgentInjectorTLS.secretName),
                "type": "kubernetes.io/tls", "data": tls.secretData,
            ])
        }
        if values.managerRbac.create { objects += rbac() }
        objects.append(service())
        objects.append(injectorService())
        objects.append(deployment())
        if let tls = agentInjectorTLS { objects.append(webhookConfiguration(tls)) }
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

    /// What the manager reads and changes in a namespace it manages: workloads and their pods
    /// (the injector reads owners, the rollout patches templates and deletes a ReplicaSet's pods),
    /// ConfigMap `telepresence-agents`, Services, and events (why an agent did not arrive).
    private var workloadRules: [JSONValue] {
        [
            ["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "delete"]],
            ["apiGroups": [""], "resources": ["services", "endpoints"], "verbs": ["get", "list", "watch"]],
            ["apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]],
            ["apiGroups": [""], "resources": ["services"], "verbs": ["update"]],
            ["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]],
            ["apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets"], "verbs": ["get", "list", "watch", "patch", "update"]],
            ["apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]],
            ["apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"]],
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

    /// `agent-injector`: the API server calls the webhook here (443 → the manager's `https`).
    private func injectorService() -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": metadata(AgentInjectorTLS.serviceName),
            "spec": [
                "type": "ClusterIP", "selector": Self.selector,
                "ports": [["name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"]],
            ],
        ]
    }

    /// The webhook: pods CREATE, in every namespace but kube-system and kube-node-lease (a
    /// namespaced install: only the managed ones); failurePolicy Ignore, so a pod the injector
    /// cannot patch still starts.
    private func webhookConfiguration(_ tls: AgentInjectorTLS) -> JSONValue {
        let namespaceSelector: JSONValue
        if let managed = values.managedNamespaces {
            namespaceSelector = ["matchExpressions": [["key": "kubernetes.io/metadata.name", "operator": "In", "values": .array(managed.map(JSONValue.string))]]]
        } else {
            namespaceSelector = ["matchExpressions": [["key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "kube-node-lease"]]]]
        }
        return [
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": ["name": .string(webhookConfigurationName), "labels": labels],
            "webhooks": [[
                "name": .string("agent-injector-\(namespace).telepresence.io"),
                "clientConfig": [
                    "service": ["name": .string(AgentInjectorTLS.serviceName), "namespace": .string(namespace), "path": "/traffic-agent", "port": 443],
                    "caBundle": .string(tls.caBundle),
                ],
                "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "*"]],
                "failurePolicy": "Ignore",
                "matchPolicy": "Equivalent",
                "reinvocationPolicy": "IfNeeded",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "namespaceSelector": namespaceSelector,
                "objectSelector": [:],
                "timeoutSeconds": 5,
            ]],
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
        env.append(["name": "AGENT_IMAGE", "value": .string(values.image.reference)])
        env.append(["name": "AGENT_INJECTOR_PORT", "value": .string(String(AgentInjectorTLS.containerPort))])
        env.append(["name": "AGENT_INJECTOR_TLS_DIR", "value": .string(AgentInjectorTLS.mountPath)])

        var podLabels = Self.selector.objectValue ?? [:]
        for (key, value) in values.podLabels.objectValue ?? [:] { podLabels[key] = value }
        var podMetadata: JSONValue = ["labels": .object(podLabels)]
        var annotations = values.podAnnotations.objectValue ?? [:]
        // A new webhook certificate (the kept one expired) rolls the manager, which reads it at start.
        if let tls = agentInjectorTLS { annotations["telepresence.io/agent-injector-certificate"] = .string(tls.fingerprint) }
        if !annotations.isEmpty { podMetadata["annotations"] = .object(annotations) }

        let container: JSONValue = [
            "name": "traffic-manager",
            "image": .string(values.image.reference),
            "imagePullPolicy": .string(values.image.pullPolicy),
            "args": ["manager"],
            "ports": [
                ["name": "api", "containerPort": .number(Double(values.apiPort)), "protocol": "TCP"],
                // The data plane: workstations' tunnels, reached by port-forward (API port + 1).
                ["name": "tunnel", "containerPort": .number(Double(values.apiPort + 1)), "protocol": "TCP"],
                // The agent injector's webhook (Service agent-injector, 443).
                ["name": "https", "containerPort": .number(Double(AgentInjectorTLS.containerPort)), "protocol": "TCP"],
            ],
            "env": .array(env),
            "volumeMounts": [["name": "tls", "mountPath": .string(AgentInjectorTLS.mountPath), "readOnly": true]],
            "readinessProbe": ["tcpSocket": ["port": "api"], "periodSeconds": 2, "failureThreshold": 3],
            "resources": values.resources,
            "securityContext": values.securityContext,
        ]
        var podSpec: JSONValue = [
            "serviceAccountName": .string(Self.name), "containers": [container],
            // Optional: without a certificate (helm template) the manager starts, without the webhook.
            "volumes": [["name": "tls", "secret": ["secretName": .string(AgentInjectorTLS.secretName), "optional": true]]],
        ]
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
