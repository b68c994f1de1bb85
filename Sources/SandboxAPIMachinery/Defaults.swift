import KubeClient

/// The defaults the real API server fills in on create and update (the `SetDefaults_*`
/// functions of `k8s.io/kubernetes/pkg/apis/*/v1`, plus the few admission plugins every cluster
/// runs for pods), so that clients reading an object back see what a real cluster shows:
/// `kubectl rollout status` needs a Deployment's strategy and a StatefulSet's updateStrategy,
/// `kubectl apply` three-way diffs need stable values, users expect `imagePullPolicy`.
///
/// Only fields that are absent are set; nothing the client sent is overwritten. Allocation
/// (cluster IPs, node ports, uids) and status are the API server's and controllers' job.
public enum Defaults {
    /// Applies the defaults of `resource` (plural, e.g. `deployments`) to `object`.
    public static func apply(resource: String, to object: inout JSONValue) {
        guard case .object(var fields) = object else { return }
        switch resource {
        case "pods":
            update(&fields, "spec") { podSpec(&$0, isPod: true) }
        case "podtemplates":
            update(&fields, "template") { template in update(&template, "spec") { podSpec(&$0, isPod: false) } }
        case "deployments":
            update(&fields, "spec") { deploymentSpec(&$0) }
        case "replicasets", "replicationcontrollers":
            update(&fields, "spec") { spec in
                setIfMissing(&spec, "replicas", 1)
                templateSpec(&spec)
            }
        case "statefulsets":
            update(&fields, "spec") { statefulSetSpec(&$0) }
        case "daemonsets":
            update(&fields, "spec") { daemonSetSpec(&$0) }
        case "jobs":
            update(&fields, "spec") { jobSpec(&$0) }
        case "cronjobs":
            update(&fields, "spec") { spec in
                setIfMissing(&spec, "concurrencyPolicy", "Allow")
                setIfMissing(&spec, "suspend", false)
                setIfMissing(&spec, "successfulJobsHistoryLimit", 3)
                setIfMissing(&spec, "failedJobsHistoryLimit", 1)
                update(&spec, "jobTemplate") { template in update(&template, "spec") { jobSpec(&$0) } }
            }
        case "services":
            update(&fields, "spec") { serviceSpec(&$0) }
        case "namespaces":
            namespace(&fields)
        case "secrets":
            setIfMissing(&fields, "type", "Opaque")
        case "endpoints":
            updateEach(&fields, "subsets") { subset in
                updateEach(&subset, "ports") { setIfMissing(&$0, "protocol", "TCP") }
            }
        case "rolebindings", "clusterrolebindings":
            updateEach(&fields, "subjects") { subject in
                guard subject["apiGroup"] == nil else { return }
                subject["apiGroup"] = subject["kind"] == "ServiceAccount" ? "" : "rbac.authorization.k8s.io"
            }
        case "mutatingwebhookconfigurations", "validatingwebhookconfigurations":
            let mutating = resource == "mutatingwebhookconfigurations"
            updateEach(&fields, "webhooks") { webhook(&$0, mutating: mutating) }
        default:
            break
        }
        object = .object(fields)
    }

    // MARK: Workloads

    static func deploymentSpec(_ spec: inout [String: JSONValue]) {
        setIfMissing(&spec, "replicas", 1)
        update(&spec, "strategy") { strategy in
            setIfMissing(&strategy, "type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate" {
                update(&strategy, "rollingUpdate") { rolling in
                    setIfMissing(&rolling, "maxUnavailable", "25%")
                    setIfMissing(&rolling, "maxSurge", "25%")
                }
            }
        }
        setIfMissing(&spec, "revisionHistoryLimit", 10)
        setIfMissing(&spec, "progressDeadlineSeconds", 600)
        templateSpec(&spec)
    }

    static func statefulSetSpec(_ spec: inout [String: JSONValue]) {
        setIfMissing(&spec, "podManagementPolicy", "OrderedReady")
        update(&spec, "updateStrategy") { strategy in
            if strategy["type"] == nil {
                strategy["type"] = "RollingUpdate"
                setIfMissing(&strategy, "rollingUpdate", [:])
            }
            if strategy["type"] == "RollingUpdate", strategy["rollingUpdate"] != nil {
                update(&strategy, "rollingUpdate") { setIfMissing(&$0, "partition", 0) }
            }
        }
        update(&spec, "persistentVolumeClaimRetentionPolicy") { policy in
            setIfMissing(&policy, "whenDeleted", "Retain")
            setIfMissing(&policy, "whenScaled", "Retain")
        }
        setIfMissing(&spec, "replicas", 1)
        setIfMissing(&spec, "revisionHistoryLimit", 10)
        updateEach(&spec, "volumeClaimTemplates") { claim in
            update(&claim, "spec") { setIfMissing(&$0, "volumeMode", "Filesystem") }
        }
        templateSpec(&spec)
    }

    static func daemonSetSpec(_ spec: inout [String: JSONValue]) {
        update(&spec, "updateStrategy") { strategy in
            setIfMissing(&strategy, "type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate" {
                update(&strategy, "rollingUpdate") { rolling in
                    setIfMissing(&rolling, "maxUnavailable", 1)
                    setIfMissing(&rolling, "maxSurge", 0)
                }
            }
        }
        setIfMissing(&spec, "revisionHistoryLimit", 10)
        templateSpec(&spec)
    }

    static func jobSpec(_ spec: inout [String: JSONValue]) {
        if spec["completions"] == nil && spec["parallelism"] == nil {
            spec["completions"] = 1
            spec["parallelism"] = 1
        }
        setIfMissing(&spec, "parallelism", 1)
        setIfMissing(&spec, "backoffLimit", 6)
        setIfMissing(&spec, "completionMode", "NonIndexed")
        setIfMissing(&spec, "suspend", false)
        templateSpec(&spec)
    }

    /// `spec.template.spec` of a workload: pod spec defaults without the pod-only admission ones.
    static func templateSpec(_ spec: inout [String: JSONValue]) {
        guard spec["template"] != nil else { return }
        update(&spec, "template") { template in update(&template, "spec") { podSpec(&$0, isPod: false) } }
    }

    // MARK: Pods

    /// Pod spec defaults. `isPod` adds what the ServiceAccount, Priority and
    /// DefaultTolerationSeconds admission plugins add to pods (never to templates).
    static func podSpec(_ spec: inout [String: JSONValue], isPod: Bool) {
        setIfMissing(&spec, "dnsPolicy", "ClusterFirst")
        setIfMissing(&spec, "restartPolicy", "Always")
        setIfMissing(&spec, "terminationGracePeriodSeconds", 30)
        setIfMissing(&spec, "securityContext", [:])
        setIfMissing(&spec, "schedulerName", "default-scheduler")
        // SetDefaults_Pod, not SetDefaults_PodSpec: templates do not get these.
        let hostNetwork = isPod && spec["hostNetwork"] == true
        if isPod { setIfMissing(&spec, "enableServiceLinks", true) }
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            updateEach(&spec, list) { container(&$0, hostNetwork: hostNetwork, isPod: isPod) }
        }
        updateEach(&spec, "volumes") { volume(&$0) }
        guard isPod else { return }
        if spec["serviceAccountName"] == nil {
            spec["serviceAccountName"] = spec["serviceAccount"] ?? "default"
        }
        setIfMissing(&spec, "serviceAccount", spec["serviceAccountName"] ?? "default")
        setIfMissing(&spec, "priority", 0)
        setIfMissing(&spec, "preemptionPolicy", "PreemptLowerPriority")
        var tolerations = spec["tolerations"]?.arrayValue ?? []
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
        where !tolerations.contains(where: { $0["key"]?.stringValue == key && ($0["effect"] == nil || $0["effect"] == "NoExecute") }) {
            tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300])
        }
        spec["tolerations"] = .array(tolerations)
    }

    static func container(_ container: inout [String: JSONValue], hostNetwork: Bool, isPod: Bool) {
        if container["imagePullPolicy"] == nil {
            container["imagePullPolicy"] = .string(imagePullPolicy(forImage: container["image"]?.stringValue ?? ""))
        }
        setIfMissing(&container, "terminationMessagePath", "/dev/termination-log")
        setIfMissing(&container, "terminationMessagePolicy", "File")
        setIfMissing(&container, "resources", [:])
        if isPod {
            // Requests default to limits (SetDefaults_Pod).
            update(&container, "resources") { resources in
                guard case .object(let limits)? = resources["limits"] else { return }
                var requests = resources["requests"]?.objectValue ?? [:]
                for (name, quantity) in limits where requests[name] == nil { requests[name] = quantity }
                resources["requests"] = .object(requests)
            }
        }
        updateEach(&container, "ports") { port in
            setIfMissing(&port, "protocol", "TCP")
            if hostNetwork, port["hostPort"] == nil, let containerPort = port["containerPort"] {
                port["hostPort"] = containerPort
            }
        }
        updateEach(&container, "env") { variable in
            guard variable["valueFrom"]?["fieldRef"] != nil else { return }
            update(&variable, "valueFrom") { from in update(&from, "fieldRef") { setIfMissing(&$0, "apiVersion", "v1") } }
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] where container[probe] != nil {
            update(&container, probe) { probe in
                setIfMissing(&probe, "timeoutSeconds", 1)
                setIfMissing(&probe, "periodSeconds", 10)
                setIfMissing(&probe, "successThreshold", 1)
                setIfMissing(&probe, "failureThreshold", 3)
                if probe["httpGet"] != nil {
                    update(&probe, "httpGet") { get in
                        setIfMissing(&get, "path", "/")
                        setIfMissing(&get, "scheme", "HTTP")
                    }
                }
            }
        }
    }

    /// `Always` for `:latest` or an untagged image, else `IfNotPresent` (a digest without a
    /// tag counts as pinned).
    public static func imagePullPolicy(forImage image: String) -> String {
        var reference = Substring(image)
        var hasDigest = false
        if let at = reference.firstIndex(of: "@") {
            reference = reference[..<at]
            hasDigest = true
        }
        let lastComponent = reference.split(separator: "/").last ?? ""
        let tag = lastComponent.firstIndex(of: ":").map { lastComponent[lastComponent.index(after: $0)...] }
        if tag == nil && hasDigest { return "IfNotPresent" }
        return tag == nil || tag == "latest" ? "Always" : "IfNotPresent"
    }

    static func volume(_ volume: inout [String: JSONValue]) {
        let sources = volume.keys.filter { $0 != "name" }
        if sources.isEmpty { volume["emptyDir"] = [:] }
        for source in ["secret", "configMap", "projected", "downwardAPI"] where volume[source] != nil {
            update(&volume, source) { setIfMissing(&$0, "defaultMode", 420) }
        }
        if volume["hostPath"] != nil {
            update(&volume, "hostPath") { setIfMissing(&$0, "type", "") }
        }
    }

    // MARK: Services and namespaces

    static func serviceSpec(_ spec: inout [String: JSONValue]) {
        setIfMissing(&spec, "sessionAffinity", "None")
        if spec["sessionAffinity"] == "None" {
            spec["sessionAffinityConfig"] = nil
        } else if spec["sessionAffinity"] == "ClientIP" {
            update(&spec, "sessionAffinityConfig") { config in
                update(&config, "clientIP") { setIfMissing(&$0, "timeoutSeconds", 10800) }
            }
        }
        setIfMissing(&spec, "type", "ClusterIP")
        updateEach(&spec, "ports") { port in
            setIfMissing(&port, "protocol", "TCP")
            let target = port["targetPort"]
            if target == nil || target == 0 || target == "" || target == .null, let number = port["port"] {
                port["targetPort"] = number
            }
        }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        if type == "NodePort" || type == "LoadBalancer" {
            setIfMissing(&spec, "externalTrafficPolicy", "Cluster")
        }
        if type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer" {
            setIfMissing(&spec, "internalTrafficPolicy", "Cluster")
        }
        if type == "LoadBalancer" {
            setIfMissing(&spec, "allocateLoadBalancerNodePorts", true)
        }
        if type != "ExternalName" {
            setIfMissing(&spec, "ipFamilies", ["IPv4"])
            setIfMissing(&spec, "ipFamilyPolicy", "SingleStack")
            if spec["clusterIPs"] == nil, let clusterIP = spec["clusterIP"], clusterIP != "" {
                spec["clusterIPs"] = [clusterIP]
            }
        }
    }

    static func namespace(_ fields: inout [String: JSONValue]) {
        if let name = fields["metadata"]?["name"]?.stringValue {
            update(&fields, "metadata") { metadata in
                update(&metadata, "labels") { $0["kubernetes.io/metadata.name"] = .string(name) }
            }
        }
        update(&fields, "spec") { setIfMissing(&$0, "finalizers", ["kubernetes"]) }
        update(&fields, "status") { setIfMissing(&$0, "phase", "Active") }
    }

    static func webhook(_ webhook: inout [String: JSONValue], mutating: Bool) {
        setIfMissing(&webhook, "failurePolicy", "Fail")
        setIfMissing(&webhook, "matchPolicy", "Equivalent")
        setIfMissing(&webhook, "namespaceSelector", [:])
        setIfMissing(&webhook, "objectSelector", [:])
        setIfMissing(&webhook, "timeoutSeconds", 10)
        if mutating { setIfMissing(&webhook, "reinvocationPolicy", "Never") }
        if webhook["clientConfig"]?["service"] != nil {
            update(&webhook, "clientConfig") { config in update(&config, "service") { setIfMissing(&$0, "port", 443) } }
        }
        updateEach(&webhook, "rules") { setIfMissing(&$0, "scope", "*") }
    }

    // MARK: Helpers

    private static func setIfMissing(_ fields: inout [String: JSONValue], _ key: String, _ value: JSONValue) {
        if fields[key] == nil || fields[key] == .null { fields[key] = value }
    }

    /// Runs `body` on the object at `key`, creating it when absent (a null counts as absent).
    private static func update(_ fields: inout [String: JSONValue], _ key: String, _ body: (inout [String: JSONValue]) -> Void) {
        var child: [String: JSONValue]
        switch fields[key] {
        case .object(let existing)?: child = existing
        case nil, .null?: child = [:]
        default: return
        }
        body(&child)
        fields[key] = .object(child)
    }

    /// Runs `body` on each object element of the list at `key`, if there is one.
    private static func updateEach(_ fields: inout [String: JSONValue], _ key: String, _ body: (inout [String: JSONValue]) -> Void) {
        guard case .array(let items)? = fields[key] else { return }
        fields[key] = .array(items.map { item in
            guard case .object(var element) = item else { return item }
            body(&element)
            return .object(element)
        })
    }
}
