import Foundation
import KubeClient
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite struct TableConverterTests {
    let now = HumanDuration.parseTimestamp("2024-05-01T12:00:00Z")!
    let created = "2024-05-01T11:55:00Z"  // 5m old

    private func cells(_ resource: String, _ object: JSONValue) -> [JSONValue] {
        TableConverter.table(resource: resource, objects: [object], now: now)["rows"]?[0]?["cells"]?.arrayValue ?? []
    }

    private func columnNames(_ resource: String, wide: Bool = false) -> [String] {
        TableConverter.columns(for: resource).filter { wide || $0.priority == 0 }.map { $0.name.uppercased() }
    }

    private func pod(status: JSONValue, spec: JSONValue = ["containers": [["name": "c"]]], deleting: Bool = false) -> JSONValue {
        var metadata: JSONValue = ["name": "web-1", "namespace": "default", "creationTimestamp": .string(created)]
        if deleting { metadata["deletionTimestamp"] = "2024-05-01T11:59:00Z" }
        return ["metadata": metadata, "spec": spec, "status": status]
    }

    @Test func tableShape() {
        let table = TableConverter.table(
            resource: "pods", objects: [pod(status: ["phase": "Pending"])], now: now, metadata: ["resourceVersion": "104"])
        #expect(table["kind"] == "Table")
        #expect(table["apiVersion"] == "meta.k8s.io/v1")
        #expect(table["metadata"] == ["resourceVersion": "104"])
        #expect(table["columnDefinitions"]?[0]?["name"] == "Name")
        #expect(table["columnDefinitions"]?[0]?["format"] == "name")
        #expect(table["columnDefinitions"]?[5]?["priority"] == 1)
        let object = table["rows"]?[0]?["object"]
        #expect(object?["kind"] == "PartialObjectMetadata")
        #expect(object?["apiVersion"] == "meta.k8s.io/v1")
        #expect(object?["metadata"]?["namespace"] == "default")
        #expect(object?["spec"] == nil)

        let full = TableConverter.table(resource: "pods", objects: [pod(status: [:])], now: now, includeObject: .object)
        #expect(full["rows"]?[0]?["object"]?["spec"] != nil)
        let none = TableConverter.table(resource: "pods", objects: [pod(status: [:])], now: now, includeObject: .none, includeColumnDefinitions: false)
        #expect(none["rows"]?[0]?["object"] == .null)
        #expect(none["columnDefinitions"] == [])
        #expect(TableConverter.IncludeObject(rawValue: "Metadata") == .metadata)
    }

    @Test func kubectlColumnNames() {
        #expect(columnNames("pods") == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
        #expect(columnNames("pods", wide: true).suffix(4) == ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"])
        #expect(columnNames("deployments") == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"])
        #expect(columnNames("deployments", wide: true).suffix(3) == ["CONTAINERS", "IMAGES", "SELECTOR"])
        #expect(columnNames("replicasets") == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"])
        #expect(columnNames("statefulsets") == ["NAME", "READY", "AGE"])
        #expect(columnNames("services") == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"])
        #expect(columnNames("services", wide: true).last == "SELECTOR")
        #expect(columnNames("endpoints") == ["NAME", "ENDPOINTS", "AGE"])
        #expect(columnNames("namespaces") == ["NAME", "STATUS", "AGE"])
        #expect(columnNames("nodes") == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"])
        #expect(columnNames("configmaps") == ["NAME", "DATA", "AGE"])
        #expect(columnNames("secrets") == ["NAME", "TYPE", "DATA", "AGE"])
        #expect(columnNames("serviceaccounts") == ["NAME", "SECRETS", "AGE"])
        #expect(columnNames("events") == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"])
        #expect(columnNames("widgets") == ["NAME", "AGE"])
        // Every row has one cell per column.
        for resource in ["pods", "deployments", "replicasets", "statefulsets", "services", "endpoints", "namespaces",
                         "nodes", "configmaps", "secrets", "serviceaccounts", "events", "clusterroles", "rolebindings",
                         "mutatingwebhookconfigurations", "widgets"] {
            #expect(cells(resource, ["metadata": ["name": "x"]]).count == TableConverter.columns(for: resource).count, "\(resource)")
        }
    }

    @Test func runningPod() {
        let row = cells("pods", pod(
            status: [
                "phase": "Running", "podIP": "10.244.0.5",
                "containerStatuses": [["name": "c", "ready": true, "restartCount": 0, "state": ["running": ["startedAt": "2024-05-01T11:55:01Z"]]]],
            ],
            spec: ["containers": [["name": "c"]], "nodeName": "node-1"]))
        #expect(row == ["web-1", "1/1", "Running", "0", "5m", "10.244.0.5", "node-1", "<none>", "<none>"])
    }

    @Test func waitingReasonsWin() {
        let row = cells("pods", pod(status: [
            "phase": "Pending",
            "containerStatuses": [["name": "c", "ready": false, "restartCount": 0, "state": ["waiting": ["reason": "ImagePullBackOff"]]]],
        ]))
        #expect(row[1] == "0/1")
        #expect(row[2] == "ImagePullBackOff")
    }

    @Test func crashLoopShowsRestartsWithTheirAge() {
        let row = cells("pods", pod(status: [
            "phase": "Running",
            "containerStatuses": [[
                "name": "c", "ready": false, "restartCount": 4,
                "state": ["waiting": ["reason": "CrashLoopBackOff"]],
                "lastState": ["terminated": ["exitCode": 1, "finishedAt": "2024-05-01T11:59:30Z"]],
            ]],
        ]))
        #expect(row[2] == "CrashLoopBackOff")
        #expect(row[3] == "4 (30s ago)")
    }

    @Test func completedAndErrorAndTerminating() {
        let done = TableConverter.table(resource: "pods", objects: [pod(status: [
            "phase": "Succeeded",
            "containerStatuses": [["name": "c", "ready": false, "restartCount": 0, "state": ["terminated": ["exitCode": 0, "reason": "Completed"]]]],
        ])], now: now)
        #expect(done["rows"]?[0]?["cells"]?[2] == "Completed")
        #expect(done["rows"]?[0]?["conditions"]?[0]?["type"] == "Completed")

        let exit = cells("pods", pod(status: [
            "phase": "Failed",
            "containerStatuses": [["name": "c", "restartCount": 0, "state": ["terminated": ["exitCode": 3]]]],
        ]))
        #expect(exit[2] == "ExitCode:3")

        let terminating = cells("pods", pod(status: [
            "phase": "Running",
            "containerStatuses": [["name": "c", "ready": true, "restartCount": 0, "state": ["running": [:]]]],
        ], deleting: true))
        #expect(terminating[2] == "Terminating")
        #expect(terminating[1] == "1/1")
    }

    @Test func initContainersShowProgress() {
        let spec: JSONValue = ["initContainers": [["name": "i1"], ["name": "i2"]], "containers": [["name": "c"]]]
        let second = cells("pods", pod(status: [
            "phase": "Pending",
            "initContainerStatuses": [
                ["name": "i1", "restartCount": 0, "state": ["terminated": ["exitCode": 0]]],
                ["name": "i2", "restartCount": 0, "state": ["running": [:]]],
            ],
        ], spec: spec))
        #expect(second[2] == "Init:1/2")
        let failing = cells("pods", pod(status: [
            "phase": "Pending",
            "initContainerStatuses": [["name": "i1", "restartCount": 2, "state": ["waiting": ["reason": "CrashLoopBackOff"]]]],
        ], spec: spec))
        #expect(failing[2] == "Init:CrashLoopBackOff")
        #expect(failing[3] == "2")
    }

    @Test func deploymentAndReplicaSetRows() {
        let deployment: JSONValue = [
            "metadata": ["name": "web", "creationTimestamp": .string(created)],
            "spec": ["replicas": 3, "selector": ["matchLabels": ["app": "web"]],
                     "template": ["spec": ["containers": [["name": "c", "image": "nginx:1.25"], ["name": "s", "image": "envoy"]]]]],
            "status": ["readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2, "replicas": 3],
        ]
        #expect(cells("deployments", deployment) == ["web", "2/3", 3, 2, "5m", "c,s", "nginx:1.25,envoy", "app=web"])
        #expect(cells("replicasets", deployment) == ["web", 3, 3, 2, "5m", "c,s", "nginx:1.25,envoy", "app=web"])
        #expect(cells("statefulsets", deployment) == ["web", "2/3", "5m", "c,s", "nginx:1.25,envoy"])
        // A deployment the controller has not seen yet.
        #expect(cells("deployments", ["metadata": ["name": "new"], "spec": ["replicas": 1]])[1] == "0/1")
    }

    @Test func serviceRows() {
        let service: JSONValue = [
            "metadata": ["name": "web", "creationTimestamp": .string(created)],
            "spec": ["type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": ["tier": "fe", "app": "web"],
                     "ports": [["port": 80, "protocol": "TCP"], ["port": 443, "nodePort": 30443, "protocol": "TCP"]]],
        ]
        #expect(cells("services", service) == ["web", "NodePort", "10.96.0.10", "<none>", "80/TCP,443:30443/TCP", "5m", "app=web,tier=fe"])
        let headless: JSONValue = ["metadata": ["name": "db"], "spec": ["type": "ClusterIP", "clusterIP": "None"]]
        #expect(cells("services", headless)[2] == "None")
        #expect(cells("services", headless)[4] == "<none>")
        let balancer: JSONValue = ["metadata": ["name": "lb"], "spec": ["type": "LoadBalancer", "ports": [["port": 80, "protocol": "TCP"]]]]
        #expect(cells("services", balancer)[3] == "<pending>")
        let external: JSONValue = ["metadata": ["name": "x"], "spec": ["type": "ExternalName", "externalName": "example.com"]]
        #expect(cells("services", external)[3] == "example.com")
    }

    @Test func endpointsRows() {
        let endpoints: JSONValue = [
            "metadata": ["name": "web"],
            "subsets": [["addresses": [["ip": "10.0.0.1"], ["ip": "10.0.0.2"], ["ip": "10.0.0.3"], ["ip": "10.0.0.4"]],
                         "ports": [["port": 8080, "protocol": "TCP"]]]],
        ]
        #expect(cells("endpoints", endpoints)[1] == "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...")
        #expect(cells("endpoints", ["metadata": ["name": "none"]])[1] == "<none>")
    }

    @Test func clusterAndConfigRows() {
        #expect(cells("namespaces", ["metadata": ["name": "dev", "creationTimestamp": .string(created)], "status": ["phase": "Active"]])
            == ["dev", "Active", "5m"])
        let node: JSONValue = [
            "metadata": ["name": "n1", "labels": ["node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"]],
            "spec": ["unschedulable": true],
            "status": ["conditions": [["type": "Ready", "status": "True"]], "nodeInfo": ["kubeletVersion": "v1.33.0"],
                       "addresses": [["type": "InternalIP", "address": "192.168.1.2"]]],
        ]
        #expect(cells("nodes", node) == [
            "n1", "Ready,SchedulingDisabled", "control-plane,worker", "<unknown>", "v1.33.0",
            "192.168.1.2", "<none>", "<unknown>", "<unknown>", "<unknown>",
        ])
        #expect(cells("configmaps", ["metadata": ["name": "cfg"], "data": ["a": "1", "b": "2"], "binaryData": ["c": ""]])[1] == 3)
        #expect(cells("secrets", ["metadata": ["name": "s"], "type": "Opaque", "data": ["a": ""]]).prefix(3) == ["s", "Opaque", 1])
        #expect(cells("serviceaccounts", ["metadata": ["name": "default"]])[1] == 0)
    }

    @Test func eventRows() {
        let event: JSONValue = [
            "metadata": ["name": "web-1.17a", "namespace": "default"],
            "involvedObject": ["kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{c}"],
            "reason": "Pulled", "type": "Normal", "message": "Pulled image \"nginx\"\n",
            "source": ["component": "kubelet", "host": "node-1"],
            "firstTimestamp": "2024-05-01T11:50:00Z", "lastTimestamp": "2024-05-01T11:59:00Z", "count": 2,
        ]
        #expect(cells("events", event) == [
            "60s", "Normal", "Pulled", "pod/web-1", "spec.containers{c}", "kubelet, node-1",
            "Pulled image \"nginx\"", "10m", 2, "web-1.17a",
        ])
        let fresh: JSONValue = ["metadata": ["name": "e"], "involvedObject": ["kind": "Node"], "eventTime": "2024-05-01T11:59:55.000000Z", "reportingComponent": "ctl"]
        let row = cells("events", fresh)
        #expect(row[0] == "5s")
        #expect(row[3] == "node")
        #expect(row[5] == "ctl")
        #expect(row[8] == 1)
    }
}
