import KubeClient

/// The defaults clients rely on (Deployment strategy, StatefulSet updateStrategy, Service type,
/// pod restart policy), minimal, until APIMachinery's `Defaults` is merged.
enum FallbackDefaults {
    static func apply(kind: String, to object: inout JSONValue) {
        switch kind {
        case "Deployment":
            var spec = object["spec"] ?? [:]
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
            if spec["progressDeadlineSeconds"] == nil { spec["progressDeadlineSeconds"] = 600 }
            var strategy = spec["strategy"] ?? [:]
            if strategy["type"] == nil { strategy["type"] = "RollingUpdate" }
            if strategy["type"]?.stringValue == "RollingUpdate" {
                var rolling = strategy["rollingUpdate"] ?? [:]
                if rolling["maxSurge"] == nil { rolling["maxSurge"] = "25%" }
                if rolling["maxUnavailable"] == nil { rolling["maxUnavailable"] = "25%" }
                strategy["rollingUpdate"] = rolling
            }
            spec["strategy"] = strategy
            defaultTemplate(&spec)
            object["spec"] = spec
        case "ReplicaSet":
            var spec = object["spec"] ?? [:]
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            defaultTemplate(&spec)
            object["spec"] = spec
        case "StatefulSet":
            var spec = object["spec"] ?? [:]
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            if spec["podManagementPolicy"] == nil { spec["podManagementPolicy"] = "OrderedReady" }
            if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
            var strategy = spec["updateStrategy"] ?? [:]
            if strategy["type"] == nil { strategy["type"] = "RollingUpdate" }
            if strategy["type"]?.stringValue == "RollingUpdate", strategy["rollingUpdate"] == nil {
                strategy["rollingUpdate"] = ["partition": 0]
            }
            spec["updateStrategy"] = strategy
            defaultTemplate(&spec)
            object["spec"] = spec
        case "Service":
            var spec = object["spec"] ?? [:]
            if spec["type"] == nil { spec["type"] = "ClusterIP" }
            if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
            if let ports = spec["ports"]?.arrayValue {
                spec["ports"] = .array(ports.map { port in
                    var p = port
                    if p["protocol"] == nil { p["protocol"] = "TCP" }
                    if p["targetPort"] == nil { p["targetPort"] = p["port"] ?? .null }
                    return p
                })
            }
            object["spec"] = spec
        case "Pod":
            var spec = object["spec"] ?? [:]
            defaultPodSpec(&spec)
            object["spec"] = spec
        default: break
        }
    }

    static func defaultTemplate(_ spec: inout JSONValue) {
        guard var template = spec["template"] else { return }
        var podSpec = template["spec"] ?? [:]
        defaultPodSpec(&podSpec)
        template["spec"] = podSpec
        spec["template"] = template
    }

    static func defaultPodSpec(_ spec: inout JSONValue) {
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
        if spec["securityContext"] == nil { spec["securityContext"] = [:] }
        for field in ["containers", "initContainers"] {
            guard let containers = spec[field]?.arrayValue else { continue }
            spec[field] = .array(containers.map { c in
                var c = c
                if c["imagePullPolicy"] == nil {
                    let image = c["image"]?.stringValue ?? ""
                    c["imagePullPolicy"] = image.hasSuffix(":latest") || !image.contains(":") ? "Always" : "IfNotPresent"
                }
                if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
                if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
                if c["resources"] == nil { c["resources"] = [:] }
                if let ports = c["ports"]?.arrayValue {
                    c["ports"] = .array(ports.map { p in var p = p; if p["protocol"] == nil { p["protocol"] = "TCP" }; return p })
                }
                return c
            })
        }
    }
}
