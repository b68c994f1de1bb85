import Foundation
import KubeClient

/// What `kubectl get pods` shows for a pod: READY `n/m`, STATUS (the phase, or the reason a
/// container waits or ended, `Init:…`, `Terminating`, `Completed`), and RESTARTS with the age of
/// the last restart; the same derivation as the real server's pod printer.
struct PodStatusSummary {
    var ready = 0
    var total = 0
    var reason = ""
    var restarts = 0
    var lastRestart: Date?

    init(_ pod: JSONValue) {
        let spec = pod["spec"] ?? [:]
        let status = pod["status"] ?? [:]
        let phase = status["phase"]?.stringValue ?? ""
        let containers = spec["containers"]?.arrayValue ?? []
        let initContainers = spec["initContainers"]?.arrayValue ?? []
        let conditions = status["conditions"]?.arrayValue ?? []

        total = containers.count
        reason = nonEmpty(status["reason"]?.stringValue) ?? phase
        if conditions.contains(where: { $0["type"] == "PodScheduled" && $0["reason"] == "SchedulingGated" }) {
            reason = "SchedulingGated"
        }

        // Sidecars (init containers with restartPolicy Always) count as containers.
        var sidecars = Set<String>()
        for container in initContainers where container["restartPolicy"] == "Always" {
            sidecars.insert(container["name"]?.stringValue ?? "")
            total += 1
        }

        var sidecarRestarts = 0
        var lastSidecarRestart: Date?
        var initializing = false
        let initStatuses = status["initContainerStatuses"]?.arrayValue ?? []
        for (index, container) in initStatuses.enumerated() {
            let name = container["name"]?.stringValue ?? ""
            let count = container["restartCount"]?.intValue ?? 0
            restarts += count
            let finished = Self.lastTermination(container)
            lastRestart = Self.later(lastRestart, finished)
            if sidecars.contains(name) {
                sidecarRestarts += count
                lastSidecarRestart = Self.later(lastSidecarRestart, finished)
            }
            let state = container["state"] ?? [:]
            let terminated = state["terminated"]
            if let terminated, terminated["exitCode"]?.intValue == 0 {
                continue
            }
            if sidecars.contains(name), container["started"] == true {
                if container["ready"] == true { ready += 1 }
                continue
            }
            if let terminated {
                if let why = nonEmpty(terminated["reason"]?.stringValue) {
                    reason = "Init:" + why
                } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                    reason = "Init:Signal:\(signal)"
                } else {
                    reason = "Init:ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                }
            } else if let why = nonEmpty(state["waiting"]?["reason"]?.stringValue), why != "PodInitializing" {
                reason = "Init:" + why
            } else {
                reason = "Init:\(index)/\(initContainers.count)"
            }
            initializing = true
            break
        }

        let initialized = conditions.contains { $0["type"] == "Initialized" && $0["status"] == "True" }
        if !initializing || initialized {
            restarts = sidecarRestarts
            lastRestart = lastSidecarRestart
            var hasRunning = false
            for container in (status["containerStatuses"]?.arrayValue ?? []).reversed() {
                restarts += container["restartCount"]?.intValue ?? 0
                lastRestart = Self.later(lastRestart, Self.lastTermination(container))
                let state = container["state"] ?? [:]
                if let why = nonEmpty(state["waiting"]?["reason"]?.stringValue) {
                    reason = why
                } else if let terminated = state["terminated"], terminated != .null {
                    if let why = nonEmpty(terminated["reason"]?.stringValue) {
                        reason = why
                    } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                        reason = "Signal:\(signal)"
                    } else {
                        reason = "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                    }
                } else if container["ready"] == true, let running = state["running"], running != .null {
                    hasRunning = true
                    ready += 1
                }
            }
            // A pod whose finished container leaves another one running is not Completed.
            if reason == "Completed" && hasRunning {
                let podReady = conditions.contains { $0["type"] == "Ready" && $0["status"] == "True" }
                reason = podReady ? "Running" : "NotReady"
            }
        }

        let deleting = pod["metadata"]?["deletionTimestamp"].map { $0 != .null } ?? false
        if deleting && status["reason"] == "NodeLost" {
            reason = "Unknown"
        } else if deleting && phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating"
        }
    }

    /// The Table cells of the pod printer, wide columns included.
    func cells(_ pod: JSONValue, now: Date) -> [JSONValue] {
        var restartText = "\(restarts)"
        if restarts != 0, let lastRestart {
            restartText = "\(restarts) (\(HumanDuration.since(lastRestart, now: now)) ago)"
        }
        let status = pod["status"] ?? [:]
        let podIP = nonEmpty(status["podIPs"]?[0]?["ip"]?.stringValue) ?? nonEmpty(status["podIP"]?.stringValue) ?? "<none>"
        let gates = pod["spec"]?["readinessGates"]?.arrayValue ?? []
        var gateText = "<none>"
        if !gates.isEmpty {
            let conditions = status["conditions"]?.arrayValue ?? []
            let satisfied = gates.filter { gate in
                conditions.first { $0["type"] == gate["conditionType"] }?["status"] == "True"
            }.count
            gateText = "\(satisfied)/\(gates.count)"
        }
        return [
            TableConverter.name(pod), .string("\(ready)/\(total)"), .string(reason), .string(restartText),
            TableConverter.age(pod, now),
            .string(podIP),
            .string(nonEmpty(pod["spec"]?["nodeName"]?.stringValue) ?? "<none>"),
            .string(nonEmpty(status["nominatedNodeName"]?.stringValue) ?? "<none>"),
            .string(gateText),
        ]
    }

    private static func lastTermination(_ status: JSONValue) -> Date? {
        HumanDuration.parseTimestamp(status["lastState"]?["terminated"]?["finishedAt"]?.stringValue)
    }

    private static func later(_ a: Date?, _ b: Date?) -> Date? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }
}

private func nonEmpty(_ text: String?) -> String? { TableConverter.nonEmpty(text) }
