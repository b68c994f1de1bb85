import AgentConfig
import KubeClient
import Logging
import RPC

/// The deployments, (unowned) replicasets and statefulsets of a namespace as a stream: first a
/// snapshot of all of them, then batches of changes, until the consumer stops.
public struct WorkloadWatcher: Sendable {
    /// A batch of changes; `snapshot` marks the first one, which holds every workload.
    public struct Delta: Sendable {
        public var changes: [WorkloadTable.Change]
        public var snapshot: Bool
    }

    let client: KubeClient
    let engagements: EngagementKeeper?
    let logger: Logger

    public init(client: KubeClient, engagements: EngagementKeeper? = nil, logger: Logger) {
        self.client = client
        self.engagements = engagements
        self.logger = logger
    }

    /// Watches `namespace`. The stream throws when the first listing fails (the namespace is not
    /// readable), and ends when the consuming task is cancelled.
    public func watch(namespace: String) -> AsyncThrowingStream<Delta, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Delta.self)
        let client = client
        let logger = logger
        let engagements = engagements
        let task = Task {
            do {
                // What decides agent state and engageability beside the workloads themselves.
                async let services: KubeList<Service> = client.listAll(.services, namespace: namespace)
                async let maps: KubeList<ConfigMap> = client.listAll(.configMaps, namespace: namespace)
                async let pods: KubeList<Pod> = client.listAll(.pods, namespace: namespace)
                let (sv, cm, po) = try await (services, maps, pods)
                async let deployments: KubeList<Deployment> = client.listAll(.deployments, namespace: namespace)
                async let replicaSets: KubeList<ReplicaSet> = client.listAll(.replicaSets, namespace: namespace)
                async let statefulSets: KubeList<StatefulSet> = client.listAll(.statefulSets, namespace: namespace)
                let (d, r, s) = try await (deployments, replicaSets, statefulSets)
                let table = TableBox()
                await table.setContext { context in
                    context.services = sv.items
                    context.configEntries = Self.entries(cm.items)
                    context.podsWithAgent = po.items.filter(Self.runsAgent)
                    if let engagements { context.intercepts = Self.intercepts(engagements, namespace: namespace) }
                }
                for item in d.items { _ = await table.upsert(WorkloadSummary(deployment: item)) }
                for item in r.items where !WorkloadSummary.isOwnedByDeployment(item.metadata) {
                    _ = await table.upsert(WorkloadSummary(replicaSet: item))
                }
                for item in s.items { _ = await table.upsert(WorkloadSummary(statefulSet: item)) }
                for item in po.items where WorkloadSummary.isBare(item) { _ = await table.upsert(WorkloadSummary(barePod: item)) }
                continuation.yield(Delta(changes: await table.snapshot, snapshot: true))

                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await follow(client.watch(.deployments, namespace: namespace, resourceVersion: d.metadata.resourceVersion, as: Deployment.self),
                                     kind: .deployment, table: table, continuation: continuation, logger: logger) { WorkloadSummary(deployment: $0) }
                    }
                    group.addTask {
                        await follow(client.watch(.replicaSets, namespace: namespace, resourceVersion: r.metadata.resourceVersion, as: ReplicaSet.self),
                                     kind: .replicaSet, table: table, continuation: continuation, logger: logger) {
                            WorkloadSummary.isOwnedByDeployment($0.metadata) ? nil : WorkloadSummary(replicaSet: $0)
                        }
                    }
                    group.addTask {
                        await followObjects(client.watch(.services, namespace: namespace, resourceVersion: sv.metadata.resourceVersion, as: Service.self),
                                            initial: sv.items, what: "Service", table: table, continuation: continuation, logger: logger) { context, all in
                            context.services = all
                        }
                    }
                    group.addTask {
                        await followObjects(client.watch(.configMaps, namespace: namespace, resourceVersion: cm.metadata.resourceVersion, as: ConfigMap.self),
                                            initial: cm.items, what: "ConfigMap", table: table, continuation: continuation, logger: logger) { context, all in
                            context.configEntries = Self.entries(all)
                        }
                    }
                    group.addTask {
                        await followObjects(client.watch(.pods, namespace: namespace, resourceVersion: po.metadata.resourceVersion, as: Pod.self),
                                            initial: po.items, what: "Pod", table: table, continuation: continuation, logger: logger) { context, all in
                            context.podsWithAgent = all.filter(Self.runsAgent)
                        }
                    }
                    group.addTask {
                        await follow(client.watch(.pods, namespace: namespace, resourceVersion: po.metadata.resourceVersion, as: Pod.self),
                                     kind: .pod, table: table, continuation: continuation, logger: logger) {
                            WorkloadSummary.isBare($0) ? WorkloadSummary(barePod: $0) : nil
                        }
                    }
                    if let engagements {
                        group.addTask {
                            for await _ in engagements.changes(initial: false) {
                                let intercepts = Self.intercepts(engagements, namespace: namespace)
                                let changes = await table.setContext { $0.intercepts = intercepts }
                                if !changes.isEmpty { continuation.yield(Delta(changes: changes, snapshot: false)) }
                            }
                        }
                    }
                    group.addTask {
                        await follow(client.watch(.statefulSets, namespace: namespace, resourceVersion: s.metadata.resourceVersion, as: StatefulSet.self),
                                     kind: .statefulSet, table: table, continuation: continuation, logger: logger) { WorkloadSummary(statefulSet: $0) }
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

extension WorkloadWatcher {
    static func entries(_ maps: [ConfigMap]) -> Set<String> {
        Set(maps.first { $0.metadata.name == AgentNames.configMap }?.data?.keys.map { $0 } ?? [])
    }

    static func runsAgent(_ pod: Pod) -> Bool {
        pod.metadata.deletionTimestamp == nil && (pod.spec?.containers ?? []).contains { $0.name == AgentNames.container }
    }

    /// The intercepts of a namespace by workload, as `list` shows them (no env or agents).
    static func intercepts(_ keeper: EngagementKeeper, namespace: String) -> [String: [Telepresence_Manager_InterceptInfo]] {
        keeper.read { state in
            Dictionary(grouping: state.intercepts.values.filter { $0.spec.namespace == namespace }.sorted { $0.id < $1.id }, by: \.spec.agent)
                .mapValues { list in
                    list.map { intercept in
                        var info = ManagerService.message(intercept: intercept, state: state)
                        info.environment = [:]
                        info.mounts = []
                        info.agents = []
                        return info
                    }
                }
        }
    }
}

/// The table shared by the watches of one stream: the workloads as their objects say, the
/// context, and the enriched table whose changes are sent.
private actor TableBox {
    var base: [String: WorkloadSummary] = [:]
    var context = WorkloadContext()
    var table = WorkloadTable()
    var snapshot: [WorkloadTable.Change] { table.snapshot }
    func upsert(_ workload: WorkloadSummary) -> WorkloadTable.Change? {
        base[workload.key] = workload
        return table.upsert(context.enrich(workload))
    }
    func remove(_ workload: WorkloadSummary) -> WorkloadTable.Change? {
        base.removeValue(forKey: workload.key)
        return table.remove(workload)
    }
    func replace(kind: WorkloadSummary.Kind, with all: [WorkloadSummary]) -> [WorkloadTable.Change] {
        for old in base.values where old.kind == kind { base.removeValue(forKey: old.key) }
        for workload in all { base[workload.key] = workload }
        return table.replace(kind: kind, with: all.map(context.enrich))
    }
    @discardableResult
    func setContext(_ change: @Sendable (inout WorkloadContext) -> Void) -> [WorkloadTable.Change] {
        change(&context)
        return base.values.sorted { $0.key < $1.key }.compactMap { table.upsert(context.enrich($0)) }
    }
}

/// Follows one kind of context object, keeping all of them by name, and re-enriches the table.
private func followObjects<Object: KubeObject & Sendable>(
    _ events: WatchSequence<Object>, initial: [Object], what: String, table: TableBox,
    continuation: AsyncThrowingStream<WorkloadWatcher.Delta, any Error>.Continuation, logger: Logger,
    apply: @escaping @Sendable (inout WorkloadContext, [Object]) -> Void
) async {
    var objects = Dictionary(initial.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { $1 })
    do {
        for try await event in events {
            switch event {
            case .added(let object), .modified(let object): objects[object.metadata.name ?? ""] = object
            case .deleted(let object): objects.removeValue(forKey: object.metadata.name ?? "")
            case .relisted(let all, _): objects = Dictionary(all.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { $1 })
            case .bookmark, .error: continue
            }
            let all = Array(objects.values)
            let changes = await table.setContext { apply(&$0, all) }
            if !changes.isEmpty { continuation.yield(WorkloadWatcher.Delta(changes: changes, snapshot: false)) }
        }
    } catch {
        if !Task.isCancelled { logger.warning("the watch of \(what)s ended: \(error)") }
    }
}

private func follow<Object: Decodable & Sendable>(
    _ events: WatchSequence<Object>, kind: WorkloadSummary.Kind, table: TableBox,
    continuation: AsyncThrowingStream<WorkloadWatcher.Delta, any Error>.Continuation, logger: Logger,
    summary: @Sendable (Object) -> WorkloadSummary?
) async {
    do {
        for try await event in events {
            var changes: [WorkloadTable.Change] = []
            switch event {
            case .added(let object), .modified(let object):
                if let workload = summary(object), let change = await table.upsert(workload) { changes.append(change) }
            case .deleted(let object):
                if let workload = summary(object), let change = await table.remove(workload) { changes.append(change) }
            case .relisted(let all, _):
                changes = await table.replace(kind: kind, with: all.compactMap(summary))
            case .bookmark, .error:
                continue
            }
            if !changes.isEmpty { continuation.yield(WorkloadWatcher.Delta(changes: changes, snapshot: false)) }
        }
    } catch {
        if !Task.isCancelled { logger.warning("the watch of \(kind.rawValue)s ended: \(error)") }
    }
}
