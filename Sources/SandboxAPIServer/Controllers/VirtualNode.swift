import KubeClient
import Synchronization

/// A node without processes, like kwok: pods bound to it (or unscheduled) become Running and
/// Ready at once with an address from 10.244.0.0/16. It serves API-only and scale tests.
package struct VirtualNode: Sendable {
    package static let name = "sandbox-node"
    let api: KubernetesAPI

    package init(api: KubernetesAPI) { self.api = api }

    package func register(runtime: String = "virtual://1.0", instanceType: String = "virtual") {
        let now = Timestamp.now()
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
             "lastHeartbeatTime": .string(now), "lastTransitionTime": .string(now)]
        }
        let node: JSONValue = [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(Self.name), "labels": [
                "kubernetes.io/hostname": .string(Self.name), "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": .string(instanceType), "type": .string(instanceType),
            ]],
            "spec": ["podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]],
            "status": [
                "capacity": ["cpu": "32", "memory": "128Gi", "pods": "10000", "ephemeral-storage": "1Ti"],
                "allocatable": ["cpu": "32", "memory": "128Gi", "pods": "10000", "ephemeral-storage": "1Ti"],
                "conditions": [
                    condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ],
                "addresses": [["type": "InternalIP", "address": "10.244.0.1"], ["type": "Hostname", "address": .string(Self.name)]],
                "nodeInfo": [
                    "kubeletVersion": "v1.33.0-sandbox", "kubeProxyVersion": "v1.33.0-sandbox", "operatingSystem": "linux",
                    "architecture": "amd64", "containerRuntimeVersion": .string(runtime), "osImage": "Sandbox",
                    "kernelVersion": "", "machineID": "", "systemUUID": "", "bootID": "",
                ],
            ],
        ]
        if api.store.get(ResourceCatalog.nodes, namespace: "", name: Self.name) == nil {
            _ = try? api.createObject(ResourceCatalog.nodes, node)
        }
    }

    /// Binds an unscheduled pod (or one bound here) and makes it run.
    func schedule(_ pod: StoredObject) {
        let spec = pod.value["spec"]
        let nodeName = spec?["nodeName"]?.stringValue ?? ""
        guard nodeName.isEmpty || nodeName == Self.name,
              pod.value["metadata"]?["deletionTimestamp"] == nil,
              pod.value["status"]?["phase"]?.stringValue == "Pending"
        else { return }
        let ip = api.podIPs.allocate()
        _ = try? api.store.update(ResourceCatalog.pods, namespace: pod.namespace, name: pod.name) { current in
            var value = current.value
            guard value["status"]?["phase"]?.stringValue == "Pending" else { return value }
            let now = Timestamp.now()
            value["spec"]?["nodeName"] = .string(Self.name)
            func condition(_ type: String) -> JSONValue {
                ["type": .string(type), "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(now)]
            }
            let containers = value["spec"]?["containers"]?.arrayValue ?? []
            value["status"] = [
                "phase": "Running", "podIP": .string(ip), "podIPs": [["ip": .string(ip)]],
                "hostIP": "10.244.0.1", "hostIPs": [["ip": "10.244.0.1"]], "startTime": .string(now), "qosClass": "BestEffort",
                "conditions": .array(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map(condition)),
                "containerStatuses": .array(containers.map { c in
                    [
                        "name": c["name"] ?? "", "image": c["image"] ?? "", "imageID": .string("virtual://\(c["image"]?.stringValue ?? "")"),
                        "containerID": .string("virtual://\(pod.uid)-\(c["name"]?.stringValue ?? "")"),
                        "ready": true, "started": true, "restartCount": 0,
                        "state": ["running": ["startedAt": .string(now)]], "lastState": [:],
                    ]
                }),
            ]
            return value
        }
    }
}

/// Pod addresses from 10.244.0.0/16, handed out in turn (10.244.0.1 is the node).
package final class PodIPAllocator: Sendable {
    private let next = Mutex(2)
    package func allocate() -> String {
        next.withLock { n in
            let host = n
            n = n >= 65534 ? 2 : n + 1
            return "10.244.\(host / 256).\(host % 256)"
        }
    }
}
