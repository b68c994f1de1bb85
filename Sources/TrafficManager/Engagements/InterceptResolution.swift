import AgentConfig
import KubeClient
import RPC

/// Fills in what a client leaves to the manager in an intercept spec (the Service, the service
/// port, its container and container port, the agent's port) from the workload's Services and
/// its agent config. Pure: the caller fetched everything.
public enum InterceptResolution {
    public static func resolve(
        _ request: Telepresence_Manager_InterceptSpec, workload: EngagedWorkload, services: [Service], config: AgentConfig
    ) throws(ResolutionError) -> Telepresence_Manager_InterceptSpec {
        let what = "\(workload.kind.lowercased()) \(workload.name)"
        let service: Service
        let names = services.compactMap(\.metadata.name)
        if !request.serviceName.isEmpty {
            guard let chosen = services.first(where: { $0.metadata.name == request.serviceName }) else {
                throw .badArgument(names.isEmpty
                    ? "service \(request.serviceName) does not select \(what), and no Service does; create one that selects its pods"
                    : "service \(request.serviceName) does not select \(what); the Services that do: \(names.joined(separator: ", "))")
            }
            service = chosen
        } else if services.count == 1 {
            service = services[0]
        } else if services.isEmpty {
            throw .notEngageable("\(what) cannot be intercepted: no Service selects it; create one (kubectl expose \(workload.kind.lowercased()) \(workload.name) --port PORT)")
        } else {
            throw .badArgument("\(what) is selected by several Services (\(names.joined(separator: ", "))); say which one with --service")
        }
        let serviceName = service.metadata.name ?? ""

        var wantedProtocol: String?
        var identifier = request.portIdentifier
        if let slash = identifier.lastIndex(of: "/") {
            let proto = identifier[identifier.index(after: slash)...].uppercased()
            guard proto == "TCP" || proto == "UDP" else {
                throw .badArgument("the port \(request.portIdentifier) names protocol \(proto); use TCP or UDP (for example 8080/UDP)")
            }
            wantedProtocol = proto
            identifier = String(identifier[..<slash])
        }

        var candidates: [(container: String, intercept: AgentConfig.Intercept)] = config.containers.flatMap { container in
            container.intercepts.filter { $0.serviceName == serviceName }.map { (container.name, $0) }
        }
        if let wantedProtocol { candidates = candidates.filter { $0.intercept.protocol.uppercased() == wantedProtocol } }
        let existing = candidates.map { describe($0.intercept) }.joined(separator: ", ")
        let all = config.containers.flatMap { c in c.intercepts.filter { $0.serviceName == serviceName } }.map(describe).joined(separator: ", ")
        if !request.containerName.isEmpty {
            guard config.containers.contains(where: { $0.name == request.containerName }) else {
                throw .badArgument("\(what) has no container \(request.containerName); its containers: \(config.containers.map(\.name).joined(separator: ", "))")
            }
            candidates = candidates.filter { $0.container == request.containerName }
        }

        let chosen: (container: String, intercept: AgentConfig.Intercept)
        if identifier.isEmpty {
            guard let first = candidates.first else {
                throw .badArgument("service \(serviceName) has no port that maps to a container port\(request.containerName.isEmpty ? "" : " of container \(request.containerName)")\(all.isEmpty ? "" : " (its ports: \(all))")")
            }
            guard candidates.count == 1 else {
                throw .badArgument("service \(serviceName) has several ports (\(existing)); say which with --port LOCAL:NAME-OR-NUMBER")
            }
            chosen = first
        } else {
            let byService = candidates.filter { $0.intercept.servicePortName == identifier || String($0.intercept.servicePort) == identifier }
            let byContainer = candidates.filter { $0.intercept.containerPortName == identifier || String($0.intercept.containerPort) == identifier }
            guard let first = byService.first ?? byContainer.first else {
                throw .badArgument("service \(serviceName) has no port \(request.portIdentifier); its ports: \(all.isEmpty ? "none" : all)")
            }
            chosen = first
        }

        var spec = request
        spec.serviceName = serviceName
        spec.serviceUid = chosen.intercept.serviceUID
        spec.servicePortName = chosen.intercept.servicePortName
        spec.servicePort = Int32(chosen.intercept.servicePort)
        spec.protocol = chosen.intercept.protocol
        spec.containerName = chosen.container
        spec.containerPortName = chosen.intercept.containerPortName
        spec.containerPort = Int32(chosen.intercept.containerPort)
        spec.agentPort = Int32(chosen.intercept.agentPort)
        spec.workloadKind = workload.kind
        spec.namespace = workload.namespace
        spec.agent = workload.name
        if spec.mechanism.isEmpty { spec.mechanism = "tcp" }
        return spec
    }

    /// `http 80/TCP` (or `80/TCP` for an unnamed port).
    static func describe(_ intercept: AgentConfig.Intercept) -> String {
        (intercept.servicePortName.isEmpty ? "" : "\(intercept.servicePortName) ") + "\(intercept.servicePort)/\(intercept.protocol)"
    }
}

/// Why an intercept spec cannot be resolved, as one sentence.
public enum ResolutionError: Error, Equatable, CustomStringConvertible {
    /// The client's arguments do not fit the workload (INVALID_ARGUMENT).
    case badArgument(String)
    /// The workload cannot be engaged as it is (FAILED_PRECONDITION).
    case notEngageable(String)

    public var description: String {
        switch self {
        case .badArgument(let text), .notEngageable(let text): text
        }
    }
}
