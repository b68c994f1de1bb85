import KubeClient
import NIOHTTP1

/// The API server's half of `pods/exec`, `pods/portforward` and `pods/attach` (the kubelet's
/// half runs in `Streams/`): authentication and authorization (an upgrade is checked as
/// `create` on `pods/exec`, `pods/portforward` or `pods/attach`: the verb SPDY's POST always
/// needed and Kubernetes 1.35 checks for WebSocket upgrades too), the pod and container checks with Kubernetes'
/// messages, the subprotocol, and for exec the start of the process, so that a failure to
/// start is still an HTTP error the client prints.
extension KubernetesAPI {
    static let streamSubresources: Set<String> = ["exec", "portforward", "attach"]
    static let portForwardProtocols = ["v4.channel.k8s.io", "portforward.k8s.io"]

    func openStream(_ request: APIRequest) async -> StreamAnswer {
        do {
            return try await decideStream(request)
        } catch {
            return .error(error)
        }
    }

    private func decideStream(_ request: APIRequest) async throws(APIError) -> StreamAnswer {
        var request = request
        try admit(&request, verb: "create")
        let segments = request.path.split(separator: "/").map(String.init)
        guard segments.count == 7, segments[0] == "api", segments[1] == "v1", segments[2] == "namespaces",
              segments[4] == "pods", Self.streamSubresources.contains(segments[6]) else {
            throw APIError.pathNotFound()
        }
        let namespace = segments[3], name = segments[5]
        guard let pod = store.get(ResourceCatalog.pods, namespace: namespace, name: name)?.value else {
            throw APIError.notFound(ResourceCatalog.pods, name)
        }
        switch segments[6] {
        case "portforward": return try portForward(request, pod: pod, namespace: namespace, name: name)
        case "exec": return try await exec(request, pod: pod, namespace: namespace, name: name)
        default:
            throw APIError.badRequest("attach is not supported by the sandbox node; run the command with exec instead")
        }
    }

    private func portForward(_ request: APIRequest, pod: JSONValue, namespace: String, name: String) throws(APIError) -> StreamAnswer {
        guard let subprotocol = ChannelProtocol.choose(offered: ChannelProtocol.offered(request.headers), supported: Self.portForwardProtocols) else {
            throw APIError.badRequest("unable to upgrade connection: the port-forward protocols offered (\(ChannelProtocol.offered(request.headers).joined(separator: ", "))) are not supported; the sandbox speaks \(Self.portForwardProtocols.joined(separator: ", ")) (kubectl port-forward needs SPDY, which it does not serve yet)")
        }
        var ports: [Int] = []
        for value in request.values("ports") {
            for text in value.split(separator: ",") {
                guard let port = Int(text.trimmingCharacters(in: .whitespaces)), (1...65535).contains(port) else {
                    throw APIError.badRequest("invalid port value \"\(text)\": must be a number between 1 and 65535")
                }
                ports.append(port)
            }
        }
        if ports.isEmpty { throw APIError.badRequest("query parameter \"port\" is required") }
        // Two channels per port, numbered in one byte.
        if ports.count > 127 { throw APIError.badRequest("at most 127 ports can be forwarded on one connection; \(ports.count) were asked for") }
        let phase = pod["status"]?["phase"]?.stringValue ?? ""
        if phase == "Succeeded" || phase == "Failed" {
            throw APIError.badRequest("cannot port-forward to a container in a completed pod; current phase is \(phase)")
        }
        let plan = PortForwardPlan(
            namespace: namespace, pod: name, uid: pod["metadata"]?["uid"]?.stringValue ?? "", ports: ports, runtime: node.runtime)
        return .accept(subprotocol: subprotocol, session: .portForward(plan))
    }

    private func exec(_ request: APIRequest, pod: JSONValue, namespace: String, name: String) async throws(APIError) -> StreamAnswer {
        let offered = ChannelProtocol.offered(request.headers)
        let supported = ExecProtocolVersion.allCases.map(\.rawValue)
        guard let chosen = ChannelProtocol.choose(offered: offered, supported: supported) else {
            throw APIError.badRequest("unable to upgrade connection: none of the offered exec protocols (\(offered.joined(separator: ", "))) is supported; use one of \(supported.joined(separator: ", "))")
        }
        let version = chosen.flatMap(ExecProtocolVersion.init(rawValue:)) ?? .v1
        let command = request.values("command")
        if command.isEmpty { throw APIError.badRequest("you must specify at least 1 command") }
        let stdin = try request.flag("stdin"), stdout = try request.flag("stdout"), stderr = try request.flag("stderr")
        let tty = try request.flag("tty")
        if !stdin && !stdout && !stderr {
            throw APIError.badRequest("you must specify at least 1 of stdin, stdout, stderr")
        }
        let container = try ContainerChoice.resolve(pod: pod, requested: request.query["container"], firstWhenMany: true)
        let phase = pod["status"]?["phase"]?.stringValue ?? ""
        if phase == "Succeeded" || phase == "Failed" {
            throw APIError.badRequest("cannot exec into a container in a completed pod; current phase is \(phase)")
        }
        var plan = ExecPlan(version: version, command: command, process: nil, startFailure: nil, stdin: stdin, stdout: stdout, stderr: stderr, tty: tty)
        do {
            plan.process = try await node.runtime.exec(
                ExecRequest(namespace: namespace, pod: name, container: container, command: command, stdin: stdin, tty: tty))
        } catch let error as PodRuntimeError {
            switch error {
            case .executableNotFound, .failed:
                // The kubelet reports these after the upgrade, on the status channel.
                plan.startFailure = error.description
            case .noProcesses, .podNotRunning, .containerNotRunning, .containerNotFound, .connectionRefused:
                throw APIError.badRequest(error.description)
            }
        } catch {
            plan.startFailure = "\(error)"
        }
        return .accept(subprotocol: chosen, session: .exec(plan))
    }
}
