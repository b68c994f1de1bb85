import AgentConfig
import AgentInjector
import Foundation
import GRPCCore
import HTTPRouting
import KubeClient
import Logging
import RPC

/// The I/O of engagements: finds the workload and its Services, writes the agent config and
/// rolls the workload when it changed, waits for every current pod's agent to confirm an
/// intercept, explains from the pods' state and events when they do not, and removes agents.
/// Errors are `RPCError`s whose message is one sentence.
public struct InterceptCoordinator: Sendable {
    let keeper: EngagementKeeper
    let client: KubeClient
    let rollout: WorkloadRollout
    let settings: ManagerSettings
    let logger: Logger

    public init(keeper: EngagementKeeper, client: KubeClient, settings: ManagerSettings, logger: Logger) {
        self.keeper = keeper
        self.client = client
        self.rollout = WorkloadRollout(client: client)
        self.settings = settings
        self.logger = logger
    }

    var injectorSettings: InjectorSettings {
        InjectorSettings(
            managerNamespace: settings.namespace, agentImage: settings.agentImage, managerPort: settings.serverPort,
            logLevel: settings.logLevel)
    }

    // MARK: create

    /// Creates an engagement of any kind for `clientSession` and returns it once ACTIVE: the
    /// workload's agent config is written (a replace's with its container replaced) and the
    /// workload rolled when that config changed, then every current pod's agent must confirm it
    /// (an ingest only needs the agents to have arrived).
    public func create(
        _ request: Telepresence_Manager_InterceptSpec, clientSession: String, clientName: String
    ) async throws -> EngagementState.Intercept {
        let kind = request.engagementKind ?? .intercept
        let workload = try await findWorkload(name: request.agent, namespace: request.namespace)
        let allServices: KubeList<Service> = try await api("read the Services of namespace \(request.namespace)") {
            try await client.list(.services, namespace: request.namespace)
        }
        let services = workload.services(among: allServices.items)
        var spec: Telepresence_Manager_InterceptSpec
        let config: AgentConfig
        do {
            switch kind {
            case .intercept, .wiretap:
                if services.isEmpty {
                    throw ResolutionError.notEngageable(
                        "\(workload.kind.lowercased()) \(workload.name) cannot be \(kind == .wiretap ? "wiretapped" : "intercepted"): no Service selects it; create one (kubectl expose \(workload.kind.lowercased()) \(workload.name) --port PORT)")
                }
                // The port is resolved in the normal config: a replaced container's ports are still
                // its ports (and EngagementRules refuses them, naming the replace).
                let normal = try generate(workload, services: services, replacing: nil)
                spec = try InterceptResolution.resolve(request, workload: workload, services: services, config: normal)
                let replaced = replacedContainer(of: workload)
                config = replaced == nil ? normal : try generate(workload, services: services, replacing: replaced)
                spec.mechanism = spec.filter == nil ? "tcp" : "http"
            case .replace:
                spec = try ContainerResolution.replace(request, workload: workload)
                config = try generate(workload, services: services, replacing: spec.containerName)
            case .ingest:
                spec = try ContainerResolution.ingest(request, workload: workload)
                // An agent that is there already serves; otherwise one is injected.
                if let stored = try await storedConfig(workload: workload.name, namespace: workload.namespace) {
                    config = stored
                } else {
                    config = try generate(workload, services: services, replacing: replacedContainer(of: workload), requireService: false)
                }
            }
        } catch let error as ResolutionError {
            var code = RPCError.Code.failedPrecondition
            if case .badArgument = error { code = .invalidArgument }
            throw RPCError(code: code, message: error.description)
        } catch let error as InjectorError {
            throw RPCError(code: .failedPrecondition, message: error.description)
        }
        spec.client = clientName

        let intercept: EngagementState.Intercept
        do {
            intercept = try keeper.change { state throws(EngagementError) in
                try state.create(spec, clientSession: clientSession, now: Date())
            }
        } catch {
            throw RPCError(code: .alreadyExists, message: error.description)
        }
        logger.info("\(kind.rawValue) \(intercept.id) of \(workload.kind) \(workload.namespace)/\(workload.name): \(EngagementRules.description(spec)), by \(clientName)")
        do {
            try await apply(config, to: workload)
            try await awaitAgents(intercept.id, workload: workload)
        } catch {
            // The agent config stays (Telepresence keeps agents installed); the engagement goes,
            // and a replace puts the container back.
            let removed = try? keeper.change { state throws(EngagementError) in state.remove(id: intercept.id) }
            logger.info("\(kind.rawValue) \(intercept.id) failed: \(error)")
            if let removed { await ended([removed]) }
            throw error
        }
        return keeper.read { $0.intercepts[intercept.id] } ?? intercept
    }

    /// Engagements that ended (leave, session end, failure): a replace's workload gets its normal
    /// config back (or that of another replace still on it), which rolls its pods back.
    public func ended(_ engagements: [EngagementState.Intercept]) async {
        for engagement in engagements where engagement.spec.engagementKind == .replace {
            let what = "\(engagement.spec.workloadKind.lowercased()) \(engagement.spec.namespace)/\(engagement.spec.agent)"
            do {
                let workload = try await findWorkload(name: engagement.spec.agent, namespace: engagement.spec.namespace)
                let services: KubeList<Service> = try await api("read the Services of namespace \(workload.namespace)") {
                    try await client.list(.services, namespace: workload.namespace)
                }
                let config = try generate(workload, services: workload.services(among: services.items), replacing: replacedContainer(of: workload))
                try await apply(config, to: workload)
                logger.info("replace \(engagement.id) ended: container \(engagement.spec.containerName) of \(what) is back")
            } catch {
                logger.error("replace \(engagement.id) ended, but container \(engagement.spec.containerName) of \(what) could not be put back: \(error)")
            }
        }
    }

    /// The container a replace holds on the workload now, if any.
    func replacedContainer(of workload: EngagedWorkload) -> String? {
        keeper.read { state in
            state.intercepts(of: EngagementState.WorkloadKey(namespace: workload.namespace, name: workload.name))
                .first { $0.spec.engagementKind == .replace }?.spec.containerName
        }
    }

    func generate(
        _ workload: EngagedWorkload, services: [Service], replacing: String?, requireService: Bool = true
    ) throws(InjectorError) -> AgentConfig {
        try AgentConfigGenerator.generate(
            workloadKind: workload.kind, workloadName: workload.name, namespace: workload.namespace,
            template: workload.template, services: services, settings: injectorSettings, replacing: replacing,
            requireService: requireService)
    }

    /// Writes the workload's agent config and rolls it, when the config changed.
    func apply(_ config: AgentConfig, to workload: EngagedWorkload) async throws {
        let existing = try await storedConfig(workload: workload.name, namespace: workload.namespace)
        guard existing != config else { return }
        try await api("write the agent config of \(workload.kind.lowercased()) \(workload.name)") { try await rollout.storeConfig(config) }
        try await api("roll \(workload.kind.lowercased()) \(workload.name)") {
            try await rollout.roll(kind: workload.kind, name: workload.name, namespace: workload.namespace)
        }
        logger.info("\(workload.kind) \(workload.namespace)/\(workload.name): agent config \(existing == nil ? "written" : "changed"), rolled")
    }

    /// Waits until every current pod of the workload has an agent that confirmed the intercept.
    func awaitAgents(_ id: String, workload: EngagedWorkload) async throws {
        let deadline = ContinuousClock.now + settings.agentArrivalTimeout
        while true {
            let changed = keeper.changes(initial: false)
            let (pods, outdated) = try await rollout(of: workload)
            let (intercept, agents) = keeper.read { state in
                (state.intercepts[id], state.agents(of: EngagementState.WorkloadKey(namespace: workload.namespace, name: workload.name)))
            }
            guard let intercept else {
                throw RPCError(code: .aborted, message: "the intercept ended while it waited for its agents: its client departed")
            }
            let podNames = Set(pods.compactMap(\.metadata.name))
            // An ingest moves no traffic: an arrived agent carries it, whatever its review says.
            let ingest = intercept.spec.engagementKind == .ingest
            for agent in agents where !ingest && podNames.contains(agent.podName) {
                if case .error(let message)? = intercept.reviews[agent.sessionID] {
                    throw RPCError(code: .failedPrecondition, message: "the traffic-agent in pod \(agent.podName) refused intercept \(intercept.name): \(message)")
                }
            }
            let confirmed = Set(agents.filter { ingest || intercept.reviews[$0.sessionID] == .active }.map(\.podName))
            // Every current pod confirmed, and no older pod still serving (a Service would
            // still send it connections the intercept should get).
            if !pods.isEmpty && podNames.isSubset(of: confirmed) && outdated == 0 {
                _ = try? keeper.change { state throws(EngagementError) in state.markActive(id) }
                return
            }
            let now = ContinuousClock.now
            if now >= deadline {
                throw RPCError(code: .deadlineExceeded, message: await trouble(workload: workload, currentPods: pods, agents: agents, intercept: intercept))
            }
            // Agents' arrivals and reviews signal at once; pods are looked at again every 250 ms.
            let wait = min(deadline - now, .milliseconds(250))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in changed { return } }
                group.addTask { try? await Task.sleep(for: wait) }
                await group.next()
                group.cancelAll()
            }
            try Task.checkCancellation()
        }
    }

    /// One sentence on why the workload's agents did not confirm in time, from its pods' state
    /// and events (PodTrouble), else from what is missing.
    func trouble(
        workload: EngagedWorkload, currentPods: [Pod], agents: [EngagementState.Agent], intercept: EngagementState.Intercept
    ) async -> String {
        let what = "\(workload.kind.lowercased()) \(workload.name)"
        let timeout = Self.format(settings.agentArrivalTimeout)
        let pods: [Pod] = (try? await client.list(.pods, namespace: workload.namespace).items) ?? currentPods
        let replicaSets: [ReplicaSet] = workload.kind == "Deployment"
            ? ((try? await client.list(.replicaSets, namespace: workload.namespace).items) ?? []) : []
        let owners = Set([workload.uid] + replicaSets.filter { ($0.metadata.ownerReferences ?? []).contains { $0.uid == workload.uid } }.compactMap(\.metadata.uid))
        let mine = pods.filter { pod in
            pod.metadata.deletionTimestamp == nil && (pod.metadata.ownerReferences ?? []).contains { owners.contains($0.uid) }
        }
        let names = Set([workload.name] + replicaSets.filter { owners.contains($0.metadata.uid ?? "") }.compactMap(\.metadata.name) + mine.compactMap(\.metadata.name))
        let events: [Event] = ((try? await client.list(.events, namespace: workload.namespace).items) ?? [])
            .filter { names.contains($0.involvedObject.name ?? "") }
        if var reason = PodTrouble.describe(pods: mine, events: events) {
            if reason.contains("CrashLoopBackOff"), let line = await lastLogLine(pods: mine) { reason += "; its last log line: \(line)" }
            let describe = mine.first.map { "; 'kubectl describe pod -n \(workload.namespace) \($0.metadata.name ?? "")' tells more" } ?? ""
            return "the traffic-agent of \(what) did not start within \(timeout): \(reason)\(describe)"
        }
        if currentPods.isEmpty {
            return "\(what) has no running pods to carry the intercept; scale it up (kubectl scale \(workload.kind.lowercased()) \(workload.name) --replicas=1)"
        }
        if let pod = currentPods.first(where: { !($0.spec?.containers ?? []).contains { $0.name == AgentNames.container } }) {
            return "pod \(pod.metadata.name ?? "?") of \(what) has no traffic-agent after \(timeout): the traffic-manager's webhook did not inject it; check 'kubectl get mutatingwebhookconfigurations' and the traffic-manager's log"
        }
        let arrived = Set(agents.map(\.podName))
        if let pod = currentPods.first(where: { !arrived.contains($0.metadata.name ?? "") }) {
            return "the traffic-agent of pod \(pod.metadata.name ?? "?") did not arrive at the traffic-manager within \(timeout); see its log (kubectl logs -n \(workload.namespace) \(pod.metadata.name ?? "?") -c \(AgentNames.container))"
        }
        let quiet = agents.first { intercept.reviews[$0.sessionID] == nil }?.podName ?? currentPods.first?.metadata.name ?? "?"
        return "the traffic-agent of pod \(quiet) did not confirm intercept \(intercept.name) within \(timeout); see its log (kubectl logs -n \(workload.namespace) \(quiet) -c \(AgentNames.container))"
    }

    /// The last line the crashed container of a crash-looping pod wrote, quoted.
    func lastLogLine(pods: [Pod]) async -> String? {
        for pod in pods {
            for status in (pod.status?.initContainerStatuses ?? []) + (pod.status?.containerStatuses ?? [])
            where status.state?.waiting?.reason == "CrashLoopBackOff" {
                let options = LogOptions(container: status.name, tailLines: 1, previous: true)
                if let text = try? await client.logs(pod: pod.metadata.name ?? "", namespace: pod.metadata.namespace, options: options),
                   let line = text.split(separator: "\n").last, !line.isEmpty {
                    return "\"\(line)\""
                }
            }
        }
        return nil
    }

    static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }

    // MARK: uninstall

    /// Removes the agents of the named workloads (or every agent of the namespace), ending their
    /// intercepts first; returns the workloads whose agent was removed.
    public func uninstall(namespace: String, workloads: [String], all: Bool) async throws -> [String] {
        let map: ConfigMap? = try await configMap(namespace: namespace)
        let entries = map?.data ?? [:]
        let names = all ? entries.keys.sorted() : workloads
        var removed: [String] = []
        for name in names {
            let kind: String
            if let text = entries[name], let config = try? AgentConfig.decode(text) {
                kind = config.workloadKind
            } else {
                kind = try await findWorkload(name: name, namespace: namespace).kind
            }
            let ended = try? keeper.change { state throws(EngagementError) in
                state.removeIntercepts(of: EngagementState.WorkloadKey(namespace: namespace, name: name))
            }
            for intercept in ended ?? [] { logger.info("intercept \(intercept.id) ended: the agent of \(kind) \(namespace)/\(name) is uninstalled") }
            let gone = try await api("remove the traffic-agent of \(kind.lowercased()) \(name)") {
                try await rollout.removeAgent(kind: kind, name: name, namespace: namespace)
            }
            if gone { removed.append(name) }
        }
        return removed
    }

    // MARK: lookups

    /// The Deployment, ReplicaSet (not one a Deployment owns) or StatefulSet of that name.
    func findWorkload(name: String, namespace: String) async throws -> EngagedWorkload {
        if let d: Deployment = try await getIfPresent(.deployments, name, namespace) {
            return EngagedWorkload(kind: "Deployment", name: name, namespace: namespace, uid: d.metadata.uid ?? "", template: d.spec?.template ?? PodTemplateSpec())
        }
        if let r: ReplicaSet = try await getIfPresent(.replicaSets, name, namespace) {
            if let owner = (r.metadata.ownerReferences ?? []).first(where: { $0.kind == "Deployment" }) {
                throw RPCError(code: .invalidArgument, message: "replicaset \(name) belongs to deployment \(owner.name); intercept \(owner.name) instead")
            }
            return EngagedWorkload(kind: "ReplicaSet", name: name, namespace: namespace, uid: r.metadata.uid ?? "", template: r.spec?.template ?? PodTemplateSpec())
        }
        if let s: StatefulSet = try await getIfPresent(.statefulSets, name, namespace) {
            return EngagedWorkload(kind: "StatefulSet", name: name, namespace: namespace, uid: s.metadata.uid ?? "", template: s.spec?.template ?? PodTemplateSpec())
        }
        throw RPCError(code: .notFound, message: "deployment \(name) not found in namespace \(namespace) (nor a replicaset or statefulset of that name); 'telepresence list -n \(namespace)' shows what can be intercepted")
    }

    /// The workload's pods of its newest revision, and how many older ones still serve.
    func rollout(of workload: EngagedWorkload) async throws -> (current: [Pod], outdated: Int) {
        let pods: KubeList<Pod> = try await api("list the pods of namespace \(workload.namespace)") {
            try await client.list(.pods, namespace: workload.namespace)
        }
        var replicaSets: [ReplicaSet] = []
        var updateRevision: String?
        switch workload.kind {
        case "Deployment":
            replicaSets = try await api("list the replicasets of namespace \(workload.namespace)") {
                try await client.list(.replicaSets, namespace: workload.namespace).items
            }
        case "StatefulSet":
            let s: StatefulSet? = try await getIfPresent(.statefulSets, workload.name, workload.namespace)
            updateRevision = s?.status?.updateRevision
        default: break
        }
        let current = workload.currentPods(pods: pods.items, replicaSets: replicaSets, updateRevision: updateRevision)
        return (current, workload.outdatedPods(pods: pods.items, replicaSets: replicaSets, current: current).count)
    }

    func storedConfig(workload: String, namespace: String) async throws -> AgentConfig? {
        guard let text = try await configMap(namespace: namespace)?.data?[workload] else { return nil }
        return try? AgentConfig.decode(text)
    }

    func configMap(namespace: String) async throws -> ConfigMap? {
        try await getIfPresent(.configMaps, AgentNames.configMap, namespace)
    }

    private func getIfPresent<T: Decodable>(_ resource: ResourceDescriptor, _ name: String, _ namespace: String) async throws -> T? {
        do {
            return try await client.get(resource, name: name, namespace: namespace)
        } catch let error as KubeError where error.isNotFound {
            return nil
        } catch let error as KubeError {
            throw Self.rpcError(error, doing: "read \(resource.kind.lowercased()) \(name)")
        }
    }

    /// Runs an API call; a KubeError becomes an RPCError that says what failed.
    private func api<T>(_ doing: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as KubeError {
            throw Self.rpcError(error, doing: doing)
        }
    }

    static func rpcError(_ error: KubeError, doing: String) -> RPCError {
        if error.isForbidden {
            return RPCError(code: .permissionDenied, message: "the traffic-manager may not \(doing) (\(error)); grant it with 'telepresence helm upgrade'")
        }
        return RPCError(code: .unavailable, message: "the traffic-manager could not \(doing): \(error)")
    }
}
