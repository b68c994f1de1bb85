import Foundation
import KubeClient
import Testing

/// Rollout status as `kubectl rollout status` decides it, and why pods are not ready in one
/// sentence (what `helm install` and `connect` say instead of "timed out").
@Suite struct RolloutAndPodTroubleTests {
    func deployment(generation: Int = 2, observed: Int? = 2, desired: Int = 2, replicas: Int = 2, updated: Int = 2, available: Int = 2,
                    progressing: String? = nil) throws -> Deployment {
        var status: JSONValue = ["replicas": .number(Double(replicas)), "updatedReplicas": .number(Double(updated)),
                                 "availableReplicas": .number(Double(available))]
        if let observed { status["observedGeneration"] = .number(Double(observed)) }
        if let progressing { status["conditions"] = [["type": "Progressing", "status": "False", "reason": .string(progressing)]] }
        let value: JSONValue = [
            "metadata": ["name": "traffic-manager", "generation": .number(Double(generation))],
            "spec": ["replicas": .number(Double(desired)), "selector": ["matchLabels": ["app": "x"]],
                     "template": ["metadata": ["labels": ["app": "x"]], "spec": ["containers": [["name": "c", "image": "i"]]]]],
            "status": status,
        ]
        return try value.decode()
    }

    @Test func rolloutStatusFollowsKubectl() throws {
        #expect(try deployment().rolloutStatus == .complete)
        #expect(try deployment(observed: 1).rolloutStatus == .waiting("Waiting for deployment spec update to be observed..."))
        #expect(try deployment(updated: 1).rolloutStatus
                == .waiting("Waiting for deployment \"traffic-manager\" rollout to finish: 1 out of 2 new replicas have been updated..."))
        #expect(try deployment(replicas: 3).rolloutStatus
                == .waiting("Waiting for deployment \"traffic-manager\" rollout to finish: 1 old replicas are pending termination..."))
        #expect(try deployment(available: 0).rolloutStatus
                == .waiting("Waiting for deployment \"traffic-manager\" rollout to finish: 0 of 2 updated replicas are available..."))
        #expect(try deployment(progressing: "ProgressDeadlineExceeded").rolloutStatus
                == .failed("deployment \"traffic-manager\" exceeded its progress deadline"))
    }

    func pod(_ name: String, waiting reason: String? = nil, message: String? = nil, lastExit: Int? = nil, unschedulable: String? = nil) throws -> Pod {
        var status: JSONValue = ["phase": "Pending"]
        if let reason {
            var container: JSONValue = ["name": "app", "ready": false, "restartCount": 3,
                                        "state": ["waiting": ["reason": .string(reason), "message": message.map(JSONValue.string) ?? .null]]]
            if let lastExit { container["lastState"] = ["terminated": ["exitCode": .number(Double(lastExit)), "reason": "Error"]] }
            status["containerStatuses"] = [container]
        }
        if let unschedulable {
            status["conditions"] = [["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(unschedulable)]]
        }
        let value: JSONValue = ["metadata": ["name": .string(name)], "spec": ["containers": [["name": "app", "image": "i"]]], "status": status]
        return try value.decode()
    }

    @Test func podTroubleNamesTheCause() throws {
        let pulling = try pod("tm-1", waiting: "ImagePullBackOff", message: "Back-off pulling image \"nowhere/traffic:1\"")
        #expect(PodTrouble.describe(pods: [pulling]) == "pod tm-1: container app is ImagePullBackOff (Back-off pulling image \"nowhere/traffic:1\")")
        let crashing = try pod("tm-2", waiting: "CrashLoopBackOff", lastExit: 2)
        #expect(PodTrouble.describe(pods: [crashing]) == "pod tm-2: container app is CrashLoopBackOff, last exit code 2 (Error)")
        let pending = try pod("tm-3", unschedulable: "0/1 nodes are available")
        #expect(PodTrouble.describe(pods: [pending]) == "pod tm-3 cannot be scheduled: 0/1 nodes are available")
        #expect(PodTrouble.describe(pods: [try pod("tm-4", waiting: "ContainerCreating")]) == nil, "still starting is no trouble")
        let eventValue: JSONValue = [
            "metadata": ["name": "rs.1"], "involvedObject": ["kind": "ReplicaSet", "name": "tm-5d4"], "type": "Warning",
            "reason": "FailedCreate", "message": "pods \"tm-5d4-\" is forbidden: error looking up service account ambassador/tm",
        ]
        let event: Event = try eventValue.decode()
        #expect(PodTrouble.describe(pods: [], events: [event])
                == "ReplicaSet tm-5d4: FailedCreate: pods \"tm-5d4-\" is forbidden: error looking up service account ambassador/tm")
    }
}
