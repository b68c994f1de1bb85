import KubeClient
import RPC
import Testing
@testable import TrafficManager

/// How `list` learns a workload's agent state, why it cannot be engaged, and who intercepts it.
@Suite struct WorkloadContextTests {
    func deployment(_ name: String, annotations: [String: String]? = nil) -> WorkloadSummary {
        WorkloadSummary(deployment: Deployment(
            metadata: ObjectMeta(name: name, namespace: "default", uid: "uid-\(name)"),
            spec: DeploymentSpec(
                replicas: 1, selector: LabelSelector(matchLabels: ["app": name]),
                template: PodTemplateSpec(
                    metadata: ObjectMeta(labels: ["app": name], annotations: annotations),
                    spec: PodSpec(containers: [Container(name: "app", image: "app:1", ports: [ContainerPort(name: "http", containerPort: 8080)])]))),
            status: DeploymentStatus(readyReplicas: 1)))
    }

    func service(_ name: String, selecting app: String, target: IntOrString) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: "default"),
                spec: ServiceSpec(ports: [ServicePort(name: "http", port: 80, targetPort: target)], selector: ["app": app]))
    }

    func podWithAgent(of replicaSet: String) -> Pod {
        Pod(metadata: ObjectMeta(name: "\(replicaSet)-x1", namespace: "default",
                                 ownerReferences: [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: replicaSet, uid: "rs")]),
            spec: PodSpec(containers: [Container(name: "app", image: "app:1"), Container(name: "traffic-agent", image: "traffic:1")]))
    }

    @Test func reasonsNotToEngage() {
        var context = WorkloadContext()
        context.services = [service("web", selecting: "web", target: .string("http")), service("odd", selecting: "odd", target: .string("grpc"))]
        #expect(context.enrich(deployment("web")).notEngageableReason == "")
        #expect(context.enrich(deployment("lonely")).notEngageableReason == "no Service selects it")
        #expect(context.enrich(deployment("odd")).notEngageableReason == "the ports of the Services that select it map to no container port")
        let disabled = deployment("web", annotations: ["telepresence.io/inject-traffic-agent": "disabled"])
        #expect(context.enrich(disabled).notEngageableReason.contains("disabled"))
    }

    /// A pod no controller owns is listed, never engageable, and says why (even when a Service
    /// selects it: nothing would re-create it with the agent).
    @Test func aBarePodIsListedAsNotEngageable() {
        var context = WorkloadContext()
        context.services = [service("web", selecting: "web", target: .string("http"))]
        let bare = Pod(metadata: ObjectMeta(name: "debug", namespace: "default", labels: ["app": "web"]))
        #expect(WorkloadSummary.isBare(bare))
        let listed = context.enrich(WorkloadSummary(barePod: bare))
        #expect(listed.kind == .pod && listed.name == "debug")
        #expect(listed.notEngageableReason.hasPrefix("a bare pod cannot be engaged"))
        var owned = bare
        owned.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d8f", uid: "u")]
        #expect(!WorkloadSummary.isBare(owned))
    }

    @Test func installedNeedsTheConfigEntryAndAPodRunningTheAgent() {
        var context = WorkloadContext()
        context.services = [service("web", selecting: "web", target: .int(8080))]
        #expect(context.enrich(deployment("web")).agentState == .none)
        context.configEntries = ["web"]
        #expect(context.enrich(deployment("web")).agentState == .none)  // not rolled yet
        context.podsWithAgent = [podWithAgent(of: "web-5d8f")]
        #expect(context.enrich(deployment("web")).agentState == .installed)
        // A pod of another deployment whose name starts alike is not web's.
        context.podsWithAgent = [podWithAgent(of: "web-api-5d8f")]
        #expect(context.enrich(deployment("web")).agentState == .none)
        context.podsWithAgent = [podWithAgent(of: "web-5d8f")]
        context.intercepts = ["web": [.with { $0.id = "s:web"; $0.spec.client = "alice@laptop" }]]
        let engaged = context.enrich(deployment("web"))
        #expect(engaged.agentState == .engaged)
        #expect(engaged.intercepts.map(\.spec.client) == ["alice@laptop"])
    }
}
