import KubeClient
import RPC
import Testing
@testable import TrafficManager

/// A replace's ports and container, and an ingest's container, from the workload's template.
@Suite struct ContainerResolutionTests {
    let workload = EngagedWorkload(
        kind: "Deployment", name: "echo", namespace: "default", uid: "u1",
        template: PodTemplateSpec(
            metadata: ObjectMeta(labels: ["app": "echo"]),
            spec: PodSpec(containers: [
                Container(name: "echo", image: "echo:1", ports: [
                    ContainerPort(name: "http", containerPort: 8080),
                    ContainerPort(containerPort: 9000),
                    ContainerPort(name: "dns", containerPort: 5353, protocol: "UDP"),
                ]),
                Container(name: "sidecar", image: "side:1"),
            ])))

    func request(ports: String = "", container: String = "") -> Telepresence_Manager_InterceptSpec {
        .with {
            $0.name = "echo"
            $0.kind = "replace"
            $0.agent = "echo"
            $0.namespace = "default"
            $0.portIdentifier = ports
            $0.containerName = container
            $0.targetHost = "127.0.0.1"
        }
    }

    func summary(_ spec: Telepresence_Manager_InterceptSpec) -> [String] {
        spec.replacedPorts.map { "\($0.containerPortName):\($0.containerPort)/\($0.protocol)->\($0.targetPort) agent \($0.agentPort)" }
    }

    @Test func noPortsMeansEveryDeclaredPortToTheSameLocalNumber() throws {
        let spec = try ContainerResolution.replace(request(), workload: workload)
        #expect(spec.containerName == "echo")
        #expect(spec.workloadKind == "Deployment")
        #expect(summary(spec) == ["http:8080/TCP->8080 agent 8080", ":9000/TCP->9000 agent 9000", "dns:5353/UDP->5353 agent 5353"])
    }

    @Test func localColonContainerPortByNameOrNumberChoosesThosePorts() throws {
        let spec = try ContainerResolution.replace(request(ports: "3000:http, 3001:9000,5353:dns/udp"), workload: workload)
        #expect(summary(spec) == ["http:8080/TCP->3000 agent 8080", ":9000/TCP->3001 agent 9000", "dns:5353/UDP->5353 agent 5353"])
    }

    @Test func badPortsAreOneSentence() {
        #expect(throws: ResolutionError.badArgument("container echo of deployment echo has no port grpc; its ports: 8080/TCP (http), 9000/TCP, 5353/UDP (dns)")) {
            try ContainerResolution.replace(request(ports: "3000:grpc"), workload: workload)
        }
        #expect(throws: ResolutionError.badArgument("--port x:http: the local port must be a number from 1 to 65535, as in --port 8080:http")) {
            try ContainerResolution.replace(request(ports: "x:http"), workload: workload)
        }
        #expect(throws: ResolutionError.badArgument("--port names port 8080/TCP (http) of container echo of deployment echo twice; give each container port once")) {
            try ContainerResolution.replace(request(ports: "3000:http,3001:8080"), workload: workload)
        }
    }

    @Test func theContainerIsTheNamedOneElseTheFirst() throws {
        let side = try ContainerResolution.replace(request(container: "sidecar"), workload: workload)
        #expect(side.containerName == "sidecar" && side.replacedPorts.isEmpty)
        var ingest = request(container: "")
        ingest.kind = "ingest"
        #expect(try ContainerResolution.ingest(ingest, workload: workload).containerName == "echo")
        #expect(throws: ResolutionError.badArgument("deployment echo has no container db; its containers: echo, sidecar")) {
            try ContainerResolution.ingest(request(container: "db"), workload: workload)
        }
    }

    /// The port list comes from a client over the network: any text is either refused with one
    /// sentence or yields declared ports only, each once, to a valid local port (a fixed number
    /// of random inputs from a seeded generator).
    @Test func anyPortListIsRefusedOrNamesDeclaredPortsOnce() {
        var generator = SeededGenerator(seed: 14)
        let pieces = ["http", "dns", "8080", "9000", "5353", "3000", "0", "70000", ":", ":", ",", ",", "/", "udp", "TCP", " ", "x", "-1", ""]
        let declared: Set<String> = ["8080/TCP", "9000/TCP", "5353/UDP"]
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            do {
                let spec = try ContainerResolution.replace(request(ports: text), workload: workload)
                let ports = spec.replacedPorts.map { "\($0.containerPort)/\($0.protocol)" }
                #expect(Set(ports).isSubset(of: declared) && Set(ports).count == ports.count, "\(text)")
                #expect(spec.replacedPorts.allSatisfy { (1...65535).contains($0.targetPort) && $0.agentPort == $0.containerPort }, "\(text)")
            } catch {
                #expect(!error.description.isEmpty && !error.description.contains("\n"), "\(text)")
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failure repeats.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
