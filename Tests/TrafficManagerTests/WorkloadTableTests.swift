import KubeClient
import Testing
@testable import TrafficManager

@Suite struct WorkloadTableTests {
    func deployment(_ name: String, ready: Int, replicas: Int = 1, agent: Bool = false) -> Deployment {
        var containers = [Container(name: "app", image: "app:1")]
        if agent { containers.append(Container(name: "traffic-agent", image: "agent:1")) }
        return Deployment(
            metadata: ObjectMeta(name: name, namespace: "default", uid: "uid-\(name)"),
            spec: DeploymentSpec(
                replicas: replicas, selector: LabelSelector(matchLabels: ["app": name]),
                template: PodTemplateSpec(spec: PodSpec(containers: containers))),
            status: DeploymentStatus(readyReplicas: ready))
    }

    @Test func stateAndAgentFromTheDeployment() {
        let ready = WorkloadSummary(deployment: deployment("web", ready: 2, replicas: 2, agent: true))
        #expect(ready.state == .available)
        #expect(ready.agentState == .installed)
        let starting = WorkloadSummary(deployment: deployment("api", ready: 0))
        #expect(starting.state == .progressing)
        #expect(starting.agentState == .none)
    }

    @Test func onlyVisibleChangesAreSent() {
        var table = WorkloadTable()
        #expect(table.upsert(WorkloadSummary(deployment: deployment("web", ready: 0)))?.type == .added)
        #expect(table.upsert(WorkloadSummary(deployment: deployment("web", ready: 0))) == nil)
        #expect(table.upsert(WorkloadSummary(deployment: deployment("web", ready: 1)))?.type == .modified)
        #expect(table.snapshot.map(\.workload.name) == ["web"])
        let changes = table.replace(kind: .deployment, with: [WorkloadSummary(deployment: deployment("api", ready: 1))])
        #expect(Set(changes.map { "\($0.type) \($0.workload.name)" }) == ["deleted web", "added api"])
    }

    @Test func replicaSetsOfDeploymentsAreNotListed() {
        let owned = ObjectMeta(name: "web-abc", ownerReferences: [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "u")])
        #expect(WorkloadSummary.isOwnedByDeployment(owned))
        #expect(!WorkloadSummary.isOwnedByDeployment(ObjectMeta(name: "lonely")))
    }
}
