import AgentConfig
import AgentInjector
import Foundation
import KubeClient
import Logging
import Diagnostics

/// `telepresence helm install|upgrade|uninstall` without helm: applies the rendered manifests
/// (server-side apply, one request per object), keeps a release record, removes what a new
/// revision no longer has, and on uninstall deletes everything and waits until it is gone.
public struct ManagerInstaller: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let release = ManagerManifests.name
    /// How long uninstall waits for the objects to go, and install for the namespace.
    public var timeout: Duration = .seconds(60)
    /// How long install and upgrade wait for the traffic-manager's rollout (Helm's `--wait`;
    /// Telepresence's `timeouts.helm`).
    public var rolloutTimeout: Duration = .seconds(30)
    /// Progress lines for a terminal (nil: quiet).
    public var progress: (@Sendable (String) -> Void)?

    public init(client: KubeClient, namespace: String, progress: (@Sendable (String) -> Void)? = nil) {
        self.client = client
        self.namespace = namespace
        self.progress = progress
    }

    static let fieldManager = "telepresence"

    /// The release record, or nil when there is none.
    public func currentRelease() async throws -> ReleaseRecord? {
        do {
            let secret: JSONValue = try await client.get(.secrets, name: ReleaseRecord.secretName(release: release), namespace: namespace)
            return try ReleaseRecord.from(secret: secret)
        } catch let error as KubeError where error.isNotFound {
            return nil
        } catch let error as KubeError {
            throw InstallError.apiFailed(what: "reading the release record in namespace \(namespace)", reason: "\(error)")
        }
    }

    /// Installs a new release; fails when one exists.
    @discardableResult
    public func install(values: ManagerValues, createNamespace: Bool) async throws -> ReleaseRecord {
        if let existing = try await currentRelease() {
            throw InstallError.alreadyInstalled(namespace: namespace, revision: existing.revision)
        }
        var createdNamespace = false
        if try await !namespaceExists() {
            guard createNamespace else { throw InstallError.namespaceMissing(namespace) }
            createdNamespace = true
        }
        return try await apply(values: values, revision: 1, createdNamespace: createdNamespace, previous: nil)
    }

    /// Upgrades the release to `values` (installs when there is none and `installIfMissing`).
    @discardableResult
    public func upgrade(values: ManagerValues, installIfMissing: Bool = false, createNamespace: Bool = true) async throws -> ReleaseRecord {
        guard let previous = try await currentRelease() else {
            if installIfMissing { return try await install(values: values, createNamespace: createNamespace) }
            throw InstallError.notInstalled(namespace: namespace)
        }
        return try await apply(values: values, revision: previous.revision + 1, createdNamespace: previous.createdNamespace, previous: previous)
    }

    private func apply(values: ManagerValues, revision: Int, createdNamespace: Bool, previous: ReleaseRecord?) async throws -> ReleaseRecord {
        let manifests = ManagerManifests(namespace: namespace, values: values, agentInjectorTLS: try await agentInjectorTLS())
        let objects = manifests.objects(includeNamespace: createdNamespace)
        for object in objects {
            guard let ref = ReleaseRecord.ObjectRef(object) else { continue }
            progress?("applying \(ref.kind) \(ref.name)")
            try await applyObject(object, ref: ref)
        }
        var record = ReleaseRecord(
            name: release, namespace: namespace, revision: revision, version: ProductVersion.current, values: values,
            objects: objects.compactMap(ReleaseRecord.ObjectRef.init), createdNamespace: createdNamespace,
            updated: ISO8601DateFormatter().string(from: Date()))
        // What the previous revision had and this one has not (e.g. a ClusterRole after a
        // switch to namespaced RBAC) goes now.
        if let previous {
            let stale = previous.objects.filter { !record.objects.contains($0) }
            for ref in stale.reversed() { try await deleteObject(ref) }
            try await waitGone(stale)
            record.createdNamespace = previous.createdNamespace
        }
        let secret = try record.secret()
        try await applyObject(secret, ref: ReleaseRecord.ObjectRef(secret)!)
        try await waitForRollout()
        return record
    }

    /// Waits, as Helm's `--wait` does, until the traffic-manager's Deployment has rolled out, so
    /// a `connect` right after finds it ready; says why when it does not within `rolloutTimeout`
    /// (from its pods' state and the namespace's warning events, not "timed out").
    public func waitForRollout() async throws {
        let started = ContinuousClock.now
        var said = ""
        while true {
            let deployment: Deployment
            do {
                deployment = try await client.get(.deployments, name: ManagerManifests.name, namespace: namespace)
            } catch let error as KubeError {
                throw InstallError.apiFailed(what: "reading the traffic-manager's Deployment", reason: "\(error)")
            }
            let status = deployment.rolloutStatus
            switch status {
            case .complete:
                return
            case .failed(let reason):
                throw InstallError.notReady(namespace: namespace, reason: try await diagnosis() ?? reason)
            case .waiting(let message):
                if message != said {
                    progress?(message)
                    said = message
                }
            }
            guard ContinuousClock.now - started < rolloutTimeout else {
                let reason = try await diagnosis() ?? "the pods did not become ready within \(rolloutTimeout.components.seconds) s"
                throw InstallError.notReady(namespace: namespace, reason: reason)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// What keeps the manager's pods from being ready, if the cluster says.
    private func diagnosis() async throws -> String? {
        let pods: KubeList<Pod>? = try? await client.list(.pods, namespace: namespace, options: ListOptions(labelSelector: ManagerManifests.selectorString))
        let events: KubeList<Event>? = try? await client.list(.events, namespace: namespace)
        return PodTrouble.describe(pods: pods?.items ?? [], events: events?.items ?? [])
    }

    /// The webhook's TLS kept in Secret `mutator-webhook-tls` when it is still good, else a new one.
    func agentInjectorTLS() async throws -> AgentInjectorTLS {
        do {
            let secret: Secret = try await client.get(.secrets, name: AgentInjectorTLS.secretName, namespace: namespace)
            if let kept = AgentInjectorTLS(secret: secret, namespace: namespace) { return kept }
            progress?("the agent injector's certificate is not valid any more; making a new one")
        } catch let error as KubeError where error.isNotFound {
        } catch let error as KubeError {
            throw InstallError.apiFailed(what: "reading Secret \(AgentInjectorTLS.secretName) in namespace \(namespace)", reason: "\(error)")
        }
        do {
            return try AgentInjectorTLS.generate(namespace: namespace)
        } catch {
            throw InstallError.apiFailed(what: "making the agent injector's certificate", reason: "\(error)")
        }
    }

    /// Removes every traffic-agent the release's manager injected, as `helm uninstall` must before
    /// the webhook goes: each ConfigMap `telepresence-agents` in the namespaces it manages (all when
    /// cluster-wide) and, for each workload named there, the roll that added the agent (the pods
    /// roll back to the template they had). Returns the workloads it removed agents from.
    @discardableResult
    public func removeAgents(managedNamespaces: [String]?) async throws -> [String] {
        var maps: [ConfigMap] = []
        do {
            if let managed = managedNamespaces {
                for ns in managed {
                    do {
                        maps.append(try await client.get(.configMaps, name: AgentNames.configMap, namespace: ns))
                    } catch let error as KubeError where error.isNotFound {}
                }
            } else {
                maps = try await client.listAll(
                    .configMaps, namespace: KubeClient.allNamespaces,
                    options: ListOptions(fieldSelector: "metadata.name=\(AgentNames.configMap)"), as: ConfigMap.self
                ).items
            }
        } catch let error as KubeError {
            throw InstallError.apiFailed(what: "listing the traffic-agents' ConfigMaps \(AgentNames.configMap)", reason: "\(error)")
        }
        let rollout = WorkloadRollout(client: client)
        var removed: [String] = []
        for map in maps {
            guard let ns = map.metadata.namespace else { continue }
            for (name, text) in (map.data ?? [:]).sorted(by: { $0.key < $1.key }) {
                let kind = (try? AgentConfig.decode(text))?.workloadKind ?? "Deployment"
                progress?("removing the traffic-agent of \(kind.lowercased()) \(name) in namespace \(ns)")
                do {
                    if try await rollout.removeAgent(kind: kind, name: name, namespace: ns) { removed.append("\(ns)/\(name)") }
                } catch let error as KubeError where error.isNotFound {
                } catch {
                    throw InstallError.apiFailed(what: "removing the traffic-agent of \(kind.lowercased()) \(name) in namespace \(ns)", reason: "\(error)")
                }
            }
            // Whatever is left (entries of workloads that are gone).
            do {
                try await client.delete(.configMaps, name: AgentNames.configMap, namespace: ns)
            } catch let error as KubeError where error.isNotFound {}
        }
        return removed
    }

    /// Removes every traffic-agent, then every object of the release, waits until they are gone,
    /// then the record (and the namespace when the install created it). The webhook configuration
    /// goes first (as Telepresence's manager stops injecting once terminating): the pods that roll
    /// back to their template, also those of a workload annotated `inject-traffic-agent: enabled`,
    /// are then created without an agent, and no agent config is made again.
    public func uninstall() async throws {
        guard let record = try await currentRelease() else { throw InstallError.notInstalled(namespace: namespace) }
        let webhooks = record.objects.filter { $0.kind == "MutatingWebhookConfiguration" }
        for ref in webhooks {
            progress?("deleting \(ref.kind) \(ref.name)")
            try await deleteObject(ref)
        }
        try await waitGone(webhooks)
        try await removeAgents(managedNamespaces: record.values.managedNamespaces)
        let owned = record.objects.filter { $0.kind != "Namespace" }
        for ref in owned.reversed() {
            progress?("deleting \(ref.kind) \(ref.name)")
            try await deleteObject(ref)
        }
        try await waitGone(owned)
        try await waitPodsGone()
        try await deleteObject(ReleaseRecord.ObjectRef(
            apiVersion: "v1", kind: "Secret", name: ReleaseRecord.secretName(release: release), namespace: namespace))
        if record.createdNamespace {
            let ref = ReleaseRecord.ObjectRef(apiVersion: "v1", kind: "Namespace", name: namespace, namespace: nil)
            progress?("deleting Namespace \(namespace)")
            try await deleteObject(ref)
            try await waitGone([ref])
        }
    }

    private func namespaceExists() async throws -> Bool {
        do {
            let _: JSONValue = try await client.get(.namespaces, name: namespace)
            return true
        } catch let error as KubeError where error.isNotFound {
            return false
        }
    }

    private func applyObject(_ object: JSONValue, ref: ReleaseRecord.ObjectRef) async throws {
        do {
            let body = try object.data()
            let _: JSONValue = try await client.patch(
                ref.resource, name: ref.name, namespace: ref.namespace,
                type: .apply(fieldManager: Self.fieldManager, force: true), body: body)
        } catch let error as KubeError {
            if error.isNotFound, let ns = ref.namespace, ns != namespace {
                throw InstallError.apiFailed(what: "creating \(ref.kind) \(ref.name) in namespace \(ns)", reason: "namespace \(ns) does not exist; create it or remove it from managerRbac.namespaces")
            }
            throw InstallError.apiFailed(what: "applying \(ref.kind) \(ref.name)", reason: "\(error)")
        }
    }

    private func deleteObject(_ ref: ReleaseRecord.ObjectRef) async throws {
        do {
            try await client.delete(ref.resource, name: ref.name, namespace: ref.namespace, options: DeleteOptions(propagationPolicy: .background))
        } catch let error as KubeError where error.isNotFound {
            return
        } catch let error as KubeError {
            throw InstallError.apiFailed(what: "deleting \(ref.kind) \(ref.name)", reason: "\(error)")
        }
    }

    private func waitGone(_ refs: [ReleaseRecord.ObjectRef]) async throws {
        let deadline = ContinuousClock.now + timeout
        for ref in refs {
            while true {
                do {
                    let _: JSONValue = try await client.get(ref.resource, name: ref.name, namespace: ref.namespace)
                } catch let error as KubeError where error.isNotFound {
                    break
                }
                guard ContinuousClock.now < deadline else {
                    throw InstallError.timedOut(what: "removing \(ref.kind) \(ref.name)", seconds: Int(timeout.components.seconds))
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The Deployment's pods go after it (garbage collection); uninstall waits for them too.
    private func waitPodsGone() async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let pods: KubeList<JSONValue> = try await client.list(.pods, namespace: namespace, options: ListOptions(labelSelector: ManagerManifests.selectorString))
            if pods.items.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw InstallError.timedOut(what: "removing the traffic-manager's pods", seconds: Int(timeout.components.seconds))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
