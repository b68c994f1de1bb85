import Foundation
import KubeClient
import SandboxAPIServer
import SandboxNetwork

/// A pod worker's view of the pod written to its `status`: phase, conditions, container
/// statuses, addresses.
extension PodWorker {
    func publish() {
        guard !terminated else { return }
        let status = statusJSON()
        _ = try? node.api.store.update(ResourceCatalog.pods, namespace: namespace, name: name) { current in
            guard current.uid == uid else { return current.value }
            var value = current.value
            value["status"] = status
            return value
        }
    }

    func statusJSON() -> JSONValue {
        let now = Timestamp.now()
        let previous = node.api.store.get(ResourceCatalog.pods, namespace: namespace, name: name)?.value["status"]
        let allInitDone = initialized
        let allReady = allInitDone && !containers.isEmpty && containers.allSatisfy(\.ready)
        let phase = podPhase()
        func condition(_ type: String, _ value: Bool, reason: String? = nil) -> JSONValue {
            let status = value ? "True" : "False"
            let old = (previous?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
            let since = old?["status"]?.stringValue == status ? (old?["lastTransitionTime"] ?? .string(now)) : .string(now)
            var result: JSONValue = ["type": .string(type), "status": .string(status), "lastProbeTime": .null, "lastTransitionTime": since]
            if let reason, !value { result["reason"] = .string(reason) }
            return result
        }
        let notReady = containers.filter { !$0.ready }.map(\.name)
        let reason = phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : "ContainersNotReady"
        var conditions: [JSONValue] = [
            condition("PodReadyToStartContainers", networkReady),
            condition("Initialized", allInitDone, reason: "ContainersNotInitialized"),
            condition("Ready", allReady, reason: reason),
            condition("ContainersReady", allReady, reason: reason),
            condition("PodScheduled", true),
        ]
        if !allReady, reason == "ContainersNotReady", !notReady.isEmpty {
            for index in [2, 3] {
                conditions[index]["message"] = .string("containers with unready status: [\(notReady.joined(separator: " "))]")
            }
        }
        var status: JSONValue = [
            "phase": .string(phase), "conditions": .array(conditions), "qosClass": "BestEffort",
            "hostIP": .string(ClusterAddresses.nodeBridge), "hostIPs": [["ip": .string(ClusterAddresses.nodeBridge)]],
            "containerStatuses": .array(containers.map { $0.json(podUID: uid) }),
        ]
        if let podIP {
            status["podIP"] = .string(podIP)
            status["podIPs"] = [["ip": .string(podIP)]]
        }
        if let startTime { status["startTime"] = .string(startTime) }
        if !initContainers.isEmpty { status["initContainerStatuses"] = .array(initContainers.map { $0.json(podUID: uid) }) }
        return status
    }

    /// Kubernetes' pod phase from the containers' states. Written as plain loops over local
    /// copies: the closure form crashed Swift 6.3.1's optimizer (CopyPropagation) in release.
    func podPhase() -> String {
        let policy = restartPolicy
        let inits = initContainers
        let states = containers
        if policy == "Never" {
            for state in inits { if let code = state.exitCode, code != 0 { return "Failed" } }
        }
        guard initialized else { return "Pending" }
        var finished = !states.isEmpty
        var allSucceeded = true
        var anyStarted = false
        for state in states {
            if state.isRunning || state.exitCode != nil || state.restartCount > 0 { anyStarted = true }
            if let code = state.exitCode {
                if code != 0 { allSucceeded = false }
                if !(policy == "Never" || (policy == "OnFailure" && code == 0)) { finished = false }
            } else {
                finished = false
                allSucceeded = false
            }
        }
        if finished { return allSucceeded ? "Succeeded" : "Failed" }
        return anyStarted ? "Running" : "Pending"
    }
}
