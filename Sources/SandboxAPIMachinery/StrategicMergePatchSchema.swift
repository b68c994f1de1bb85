/// Which lists of which kinds strategic merge patch merges instead of replacing: the
/// `patchStrategy`/`patchMergeKey` struct tags of `k8s.io/api`, for the kinds the sandbox
/// serves, written as a table of dotted paths (`[]` stands for "each element of the list").
///
/// A list whose path is not in the table is replaced wholesale, as Go does for lists without a
/// strategy (`tolerations`, `args`, `command`, `envFrom`, `containerStatuses`, …).
/// `retainKeys` strategies are not listed: the `$retainKeys` directive is honoured wherever it
/// appears, which is all the apply side needs.
public struct StrategicMergePatchSchema: Sendable {
    public enum ListStrategy: Sendable, Hashable {
        /// A list of objects merged element by element, matched on this key.
        case mergeByKey(String)
        /// A list of scalars merged as a set (union keeping first occurrences), like finalizers.
        case mergeSet
    }

    /// Strategy by path, e.g. `spec.template.spec.containers[].ports` → merge by `containerPort`.
    public let lists: [String: ListStrategy]

    public init(lists: [String: ListStrategy]) {
        self.lists = lists
    }

    public func strategy(at path: String) -> ListStrategy? { lists[path] }

    /// The schema for a kind (`Deployment`, `Pod`, …). Kinds not known here get only the
    /// `ObjectMeta` rules.
    public static func forKind(_ kind: String) -> StrategicMergePatchSchema {
        var lists = nested(objectMeta, under: "metadata")
        switch kind {
        case "Pod":
            lists.merge(nested(podSpec, under: "spec")) { a, _ in a }
            lists.merge(nested(podStatus, under: "status")) { a, _ in a }
        case "PodTemplate":
            lists.merge(podTemplate(under: "template")) { a, _ in a }
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController":
            lists.merge(podTemplate(under: "spec.template")) { a, _ in a }
            lists["status.conditions"] = .mergeByKey("type")
        case "CronJob":
            lists.merge(podTemplate(under: "spec.jobTemplate.spec.template")) { a, _ in a }
        case "Service":
            lists["spec.ports"] = .mergeByKey("port")
            lists["status.conditions"] = .mergeByKey("type")
        case "Node":
            lists["spec.podCIDRs"] = .mergeSet
            lists["status.conditions"] = .mergeByKey("type")
            lists["status.addresses"] = .mergeByKey("type")
        case "Namespace":
            lists["status.conditions"] = .mergeByKey("type")
        case "ServiceAccount":
            lists["secrets"] = .mergeByKey("name")
        case "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
            lists["webhooks"] = .mergeByKey("name")
        default:
            break
        }
        return StrategicMergePatchSchema(lists: lists)
    }

    // MARK: Building blocks (relative paths)

    static let objectMeta: [String: ListStrategy] = [
        "finalizers": .mergeSet,
        "ownerReferences": .mergeByKey("uid"),
    ]

    static let container: [String: ListStrategy] = [
        "ports": .mergeByKey("containerPort"),
        "env": .mergeByKey("name"),
        "volumeMounts": .mergeByKey("mountPath"),
        "volumeDevices": .mergeByKey("devicePath"),
    ]

    static let podSpec: [String: ListStrategy] = {
        var lists: [String: ListStrategy] = [
            "containers": .mergeByKey("name"),
            "initContainers": .mergeByKey("name"),
            "ephemeralContainers": .mergeByKey("name"),
            "volumes": .mergeByKey("name"),
            "imagePullSecrets": .mergeByKey("name"),
            "hostAliases": .mergeByKey("ip"),
            "topologySpreadConstraints": .mergeByKey("topologyKey"),
            "schedulingGates": .mergeByKey("name"),
            "resourceClaims": .mergeByKey("name"),
        ]
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            lists.merge(nested(container, under: list + "[]")) { a, _ in a }
        }
        return lists
    }()

    static let podStatus: [String: ListStrategy] = [
        "conditions": .mergeByKey("type"),
        "podIPs": .mergeByKey("ip"),
        "hostIPs": .mergeByKey("ip"),
    ]

    static func podTemplate(under prefix: String) -> [String: ListStrategy] {
        nested(objectMeta, under: prefix + ".metadata").merging(nested(podSpec, under: prefix + ".spec")) { a, _ in a }
    }

    static func nested(_ lists: [String: ListStrategy], under prefix: String) -> [String: ListStrategy] {
        Dictionary(uniqueKeysWithValues: lists.map { (prefix + "." + $0.key, $0.value) })
    }
}
