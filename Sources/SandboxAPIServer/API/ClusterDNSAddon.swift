import KubeClient

/// The cluster DNS add-on as kubeadm installs it in kube-system: the `kube-dns` Service (its
/// ClusterIP is where every pod's resolv.conf points) selecting the `coredns` Deployment's pods,
/// with their ServiceAccount, the `system:coredns` ClusterRole (what CoreDNS's kubernetes plugin
/// reads) and its binding, and the Corefile ConfigMap. On the process node the pods run
/// `sandbox-cluster coredns`, which forwards to the server the node keeps at the kube-dns
/// address; on the virtual node they are Ready at once.
enum ClusterDNSAddon {
    static let image = "registry.k8s.io/coredns/coredns:v1.12.0"
    static let labels: JSONValue = ["k8s-app": "kube-dns"]

    static var objects: [(ResourceType, JSONValue)] {
        let rbac = "rbac.authorization.k8s.io"
        return [
            (ResourceCatalog.serviceAccounts, [
                "apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "coredns", "namespace": "kube-system"],
            ]),
            (ResourceCatalog.lookup(apiVersion: "\(rbac)/v1", plural: "clusterroles")!, [
                "apiVersion": .string("\(rbac)/v1"), "kind": "ClusterRole",
                "metadata": ["name": "system:coredns", "labels": ["kubernetes.io/bootstrapping": "rbac-defaults"]],
                "rules": [
                    ["apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": ["list", "watch"]],
                    ["apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]],
                ],
            ]),
            (ResourceCatalog.lookup(apiVersion: "\(rbac)/v1", plural: "clusterrolebindings")!, [
                "apiVersion": .string("\(rbac)/v1"), "kind": "ClusterRoleBinding",
                "metadata": ["name": "system:coredns", "labels": ["kubernetes.io/bootstrapping": "rbac-defaults"]],
                "roleRef": ["apiGroup": .string(rbac), "kind": "ClusterRole", "name": "system:coredns"],
                "subjects": [["kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"]],
            ]),
            (ResourceCatalog.lookup(apiVersion: "v1", plural: "configmaps")!, [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "coredns", "namespace": "kube-system"],
                "data": ["Corefile": .string(corefile)],
            ]),
            (ResourceCatalog.deployments, deployment),
        ]
    }

    /// The `kube-dns` Service: the fixed cluster DNS address, selecting the coredns pods.
    static var service: JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "kube-dns", "namespace": "kube-system",
                         "labels": ["k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"]],
            "spec": [
                "clusterIP": .string(ClusterAddresses.clusterDNS), "selector": labels,
                "ports": [
                    ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53],
                    ["name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53],
                    ["name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153],
                ],
            ],
        ]
    }

    static let corefile = """
        .:53 {
            errors
            health {
               lameduck 5s
            }
            ready
            kubernetes \(ClusterAddresses.clusterDomain) in-addr.arpa ip6.arpa {
               pods insecure
               fallthrough in-addr.arpa ip6.arpa
               ttl 30
            }
            prometheus :9153
            forward . /etc/resolv.conf
            cache 30
            loop
            reload
            loadbalance
        }

        """

    static var deployment: JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "coredns", "namespace": "kube-system", "labels": labels],
            "spec": [
                "replicas": 2, "selector": ["matchLabels": labels],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": "25%"]],
                "template": [
                    "metadata": ["labels": labels],
                    "spec": [
                        "serviceAccountName": "coredns", "dnsPolicy": "Default", "priorityClassName": "system-cluster-critical",
                        "containers": [[
                            "name": "coredns", "image": .string(image), "args": ["-conf", "/etc/coredns/Corefile"],
                            "ports": [
                                ["name": "dns", "containerPort": 53, "protocol": "UDP"],
                                ["name": "dns-tcp", "containerPort": 53, "protocol": "TCP"],
                                ["name": "metrics", "containerPort": 9153, "protocol": "TCP"],
                            ],
                            "livenessProbe": [
                                "httpGet": ["path": "/health", "port": 8080, "scheme": "HTTP"],
                                "initialDelaySeconds": 60, "timeoutSeconds": 5, "failureThreshold": 5,
                            ],
                            "readinessProbe": ["httpGet": ["path": "/ready", "port": 8181, "scheme": "HTTP"], "periodSeconds": 1],
                            "volumeMounts": [["name": "config-volume", "mountPath": "/etc/coredns", "readOnly": true]],
                        ]],
                        "volumes": [["name": "config-volume", "configMap": ["name": "coredns", "items": [["key": "Corefile", "path": "Corefile"]]]]],
                    ],
                ],
            ],
        ]
    }
}
