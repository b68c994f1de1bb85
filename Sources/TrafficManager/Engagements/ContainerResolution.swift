import AgentConfig
import KubeClient
import RPC

/// Fills in a replace or an ingest spec from the workload's pod template: the container (the one
/// `--container` names, else the first), and for a replace the ports that go to the workstation.
/// Pure: the caller fetched the workload.
///
/// A replace's `port_identifier` is empty (every port the container declares, each to the same
/// local port number) or comma-separated `LOCAL:CONTAINERPORT` entries, CONTAINERPORT a port's
/// name or number, optionally with /TCP or /UDP (a bare CONTAINERPORT keeps its own number).
public enum ContainerResolution {
    public static func replace(
        _ request: Telepresence_Manager_InterceptSpec, workload: EngagedWorkload
    ) throws(ResolutionError) -> Telepresence_Manager_InterceptSpec {
        let container = try container(request, workload: workload, verb: "replaced")
        let declared = container.ports ?? []
        let what = "container \(container.name) of \(workload.kind.lowercased()) \(workload.name)"
        var ports: [Telepresence_Manager_EngagedPort] = []
        if request.portIdentifier.isEmpty {
            ports = declared.map { engaged($0, local: $0.containerPort) }
        } else {
            for entry in request.portIdentifier.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
                let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let local = parts.count > 1 ? Int(parts[0]) : nil
                if parts.count > 1 && !(local.map { (1...65535).contains($0) } ?? false) {
                    throw .badArgument("--port \(entry): the local port must be a number from 1 to 65535, as in --port 8080:http")
                }
                var identifier = parts.last ?? ""
                var proto: String?
                if let slash = identifier.lastIndex(of: "/") {
                    proto = identifier[identifier.index(after: slash)...].uppercased()
                    identifier = String(identifier[..<slash])
                }
                guard let port = declared.first(where: { port in
                    (port.name == identifier || String(port.containerPort) == identifier)
                        && (proto == nil || (port.protocol ?? "TCP").uppercased() == proto)
                }) else {
                    let known = declared.map(describe).joined(separator: ", ")
                    throw .badArgument("\(what) has no port \(parts.last ?? entry); its ports: \(known.isEmpty ? "none" : known)")
                }
                if ports.contains(where: { $0.containerPort == port.containerPort && $0.protocol == (port.protocol ?? "TCP") }) {
                    throw .badArgument("--port names port \(describe(port)) of \(what) twice; give each container port once")
                }
                ports.append(engaged(port, local: local ?? port.containerPort))
            }
        }
        var spec = filled(request, container: container.name, workload: workload)
        spec.replacedPorts = ports
        spec.portIdentifier = request.portIdentifier
        return spec
    }

    public static func ingest(
        _ request: Telepresence_Manager_InterceptSpec, workload: EngagedWorkload
    ) throws(ResolutionError) -> Telepresence_Manager_InterceptSpec {
        let container = try container(request, workload: workload, verb: "ingested")
        return filled(request, container: container.name, workload: workload)
    }

    /// The container `--container` names, else the pod template's first app container.
    static func container(
        _ request: Telepresence_Manager_InterceptSpec, workload: EngagedWorkload, verb: String
    ) throws(ResolutionError) -> Container {
        let what = "\(workload.kind.lowercased()) \(workload.name)"
        let containers = (workload.template.spec?.containers ?? []).filter { $0.name != AgentNames.container }
        guard let first = containers.first else {
            throw .notEngageable("\(what) has no containers to be \(verb)")
        }
        guard !request.containerName.isEmpty else { return first }
        guard let named = containers.first(where: { $0.name == request.containerName }) else {
            throw .badArgument("\(what) has no container \(request.containerName); its containers: \(containers.map(\.name).joined(separator: ", "))")
        }
        return named
    }

    static func filled(
        _ request: Telepresence_Manager_InterceptSpec, container: String, workload: EngagedWorkload
    ) -> Telepresence_Manager_InterceptSpec {
        var spec = request
        spec.containerName = container
        spec.workloadKind = workload.kind
        spec.namespace = workload.namespace
        spec.agent = workload.name
        spec.mechanism = "tcp"
        spec.clearHTTPFilter()
        return spec
    }

    static func engaged(_ port: ContainerPort, local: Int) -> Telepresence_Manager_EngagedPort {
        .with {
            $0.containerPortName = port.name ?? ""
            $0.containerPort = Int32(port.containerPort)
            $0.protocol = (port.protocol ?? "TCP").uppercased()
            // The app container is gone: the agent listens on the container port itself.
            $0.agentPort = Int32(port.containerPort)
            $0.targetPort = Int32(local)
        }
    }

    /// `8080/TCP (http)`.
    static func describe(_ port: ContainerPort) -> String {
        "\(port.containerPort)/\((port.protocol ?? "TCP").uppercased())" + (port.name.map { " (\($0))" } ?? "")
    }
}
