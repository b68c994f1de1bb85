import KubeClient
import Logging

/// The deployments, (unowned) replicasets and statefulsets of a namespace as a stream: first a
/// snapshot of all of them, then batches of changes, until the consumer stops.
public struct WorkloadWatcher: Sendable {
    /// A batch of changes; `snapshot` marks the first one, which holds every workload.
    public struct Delta: Sendable {
        public var changes: [WorkloadTable.Change]
        public var snapshot: Bool
    }

    let client: KubeClient
    let logger: Logger

    public init(client: KubeClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Watches `namespace`. The stream throws when the first listing fails (the namespace is not
    /// readable), and ends when the consuming task is cancelled.
    public func watch(namespace: String) -> AsyncThrowingStream<Delta, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Delta.self)
        let client = client
        let logger = logger
        let task = Task {
            do {
                async let deployments: KubeList<Deployment> = client.listAll(.deployments, namespace: namespace)
                async let replicaSets: KubeList<ReplicaSet> = client.listAll(.replicaSets, namespace: namespace)
                async let statefulSets: KubeList<StatefulSet> = client.listAll(.statefulSets, namespace: namespace)
                let (d, r, s) = try await (deployments, replicaSets, statefulSets)
                let table = TableBox()
                for item in d.items { _ = await table.upsert(WorkloadSummary(deployment: item)) }
                for item in r.items where !WorkloadSummary.isOwnedByDeployment(item.metadata) {
                    _ = await table.upsert(WorkloadSummary(replicaSet: item))
                }
                for item in s.items { _ = await table.upsert(WorkloadSummary(statefulSet: item)) }
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

/// The table shared by the three watches of one stream.
private actor TableBox {
    var table = WorkloadTable()
    var snapshot: [WorkloadTable.Change] { table.snapshot }
    func upsert(_ workload: WorkloadSummary) -> WorkloadTable.Change? { table.upsert(workload) }
    func remove(_ workload: WorkloadSummary) -> WorkloadTable.Change? { table.remove(workload) }
    func replace(kind: WorkloadSummary.Kind, with all: [WorkloadSummary]) -> [WorkloadTable.Change] {
        table.replace(kind: kind, with: all)
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
