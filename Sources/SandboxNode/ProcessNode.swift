import Foundation
import KubeClient
import SandboxAPIServer
import SandboxNetwork
import Synchronization

/// The node that runs pods as processes: each pod in its own network namespace on the node
/// namespace's bridge, each container a process in a private mount namespace with the pod's
/// volumes (see `ContainerLauncher`). It replaces the virtual node when the API server's
/// configuration says `.process(options)`; the cluster's node namespace must exist (made by
/// `sandbox-cluster up`, or by a test's fixture).
public final class ProcessNode: PodNode {
    static let name = VirtualNode.name
    let api: KubernetesAPI
    let options: ProcessNodeOptions
    let catalog: ImageCatalog
    let network: PodNetwork
    let spawner = SpawnThread()
    /// The sandbox CA, as pods see it in their service-account volume (`ca.crt`).
    let caPEM: String
    let inputs: PodInputs
    private let workers = Mutex<[String: PodWorker]>([:])
    private let stopped = Mutex(false)
    private let logger: @Sendable (String) -> Void

    /// Checks the node namespace and the state directory, loads the image mapping, and sets
    /// itself as the API's node runtime and cluster dialer.
    init(api: KubernetesAPI, options: ProcessNodeOptions, caPEM: String, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let nodeNamespace = options.names.nodeNamespace
        guard FileManager.default.fileExists(atPath: PodNetwork.path(nodeNamespace)) else {
            throw PodRuntimeError.failed("the node's network namespace \(nodeNamespace) does not exist; start the cluster with 'sandbox-cluster up --name \(options.names.cluster)' (or create the namespace and its bridge \(ClusterNames.bridge) first)")
        }
        try FileManager.default.createDirectory(at: options.stateDirectory.appendingPathComponent("pods"), withIntermediateDirectories: true)
        if let file = options.imageMappingFile {
            catalog = try ImageCatalog(executablesDirectory: options.executablesDirectory, mappingFile: file)
        } else {
            catalog = ImageCatalog(executablesDirectory: options.executablesDirectory)
        }
        self.api = api
        self.options = options
        self.caPEM = caPEM
        self.network = PodNetwork(names: options.names)
        self.logger = log
        let store = api.store
        let configMaps = ResourceCatalog.lookup(apiVersion: "v1", plural: "configmaps")!
        let secrets = ResourceCatalog.lookup(apiVersion: "v1", plural: "secrets")!
        inputs = PodInputs(
            configMap: { store.get(configMaps, namespace: $0, name: $1)?.value },
            secret: { store.get(secrets, namespace: $0, name: $1)?.value },
            services: { namespace in store.list(ResourceCatalog.services, namespace: namespace).items.map(\.object.value) })
        api.node.runtime = ProcessRuntime(node: self)
        api.node.dialer = NodeDialer(namespace: nodeNamespace)
        api.node.terminatesPods = true
    }

    var runtime: any PodRuntime { api.node.runtime }
    var dialer: any ClusterDialer { api.node.dialer }

    func log(_ message: String) { logger(message) }

    /// Registers the Node object.
    public func register() {
        VirtualNode(api: api).register(runtime: "sandbox-process://1.0", instanceType: "process")
    }

    /// Reacts to a change of a pod: binds and starts new ones, terminates deleted ones.
    public func handle(_ event: StoreEvent) {
        let pod = event.object
        if event.kind == .deleted {
            if let worker = workers.withLock({ $0[pod.uid] }) {
                Task { await worker.terminate(grace: 0, finalize: false) }
            }
            return
        }
        let metadata = pod.value["metadata"]
        let nodeName = pod.value["spec"]?["nodeName"]?.stringValue ?? ""
        if metadata?["deletionTimestamp"] != nil {
            let grace = metadata?["deletionGracePeriodSeconds"]?.intValue
            if let worker = workers.withLock({ $0[pod.uid] }) {
                Task { await worker.terminate(grace: grace, finalize: true) }
            } else if grace != 0, nodeName.isEmpty || nodeName == Self.name {
                finalizeDeletion(namespace: pod.namespace, name: pod.name, uid: pod.uid)
            }
            return
        }
        guard nodeName.isEmpty || nodeName == Self.name,
              pod.value["status"]?["phase"]?.stringValue == "Pending",
              !stopped.withLock({ $0 }),
              workers.withLock({ $0[pod.uid] == nil })
        else { return }
        guard let bound = try? api.store.update(ResourceCatalog.pods, namespace: pod.namespace, name: pod.name, { current in
            var value = current.value
            guard current.uid == pod.uid else { return value }
            value["spec"]?["nodeName"] = .string(Self.name)
            return value
        }), bound.uid == pod.uid else { return }
        let worker = PodWorker(node: self, pod: bound)
        workers.withLock { $0[pod.uid] = worker }
        Task { await worker.start() }
    }

    /// The end of a graceful deletion: the pod object goes (or waits for its finalizers).
    func finalizeDeletion(namespace: String, name: String, uid: String) {
        _ = try? api.store.update(ResourceCatalog.pods, namespace: namespace, name: name) { current in
            var value = current.value
            guard current.uid == uid, value["metadata"]?["deletionTimestamp"] != nil else { return value }
            value["metadata"]?["deletionGracePeriodSeconds"] = 0
            return value
        }
    }

    func forget(uid: String) {
        _ = workers.withLock { $0.removeValue(forKey: uid) }
    }

    /// The worker of a pod, by namespace and name (port-forward, exec, logs).
    func worker(namespace: String, pod: String) -> PodWorker? {
        guard let object = api.store.get(ResourceCatalog.pods, namespace: namespace, name: pod) else { return nil }
        return workers.withLock { $0[object.uid] }
    }

    /// The directory of a pod's state, by namespace and name.
    func podDirectory(namespace: String, pod: String) -> URL? {
        guard let object = api.store.get(ResourceCatalog.pods, namespace: namespace, name: pod) else { return nil }
        return options.stateDirectory.appendingPathComponent("pods").appendingPathComponent(object.uid)
    }

    /// Stops every pod at once (SIGKILL) and removes their namespaces and files; the pod
    /// objects stay (the store goes with the server).
    public func shutdown() async {
        stopped.withLock { $0 = true }
        let all = workers.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for worker in all { group.addTask { await worker.terminate(grace: 0, finalize: false) } }
        }
        spawner.stop()
        Self.removeRecordedProcesses(stateDirectory: options.stateDirectory)
        try? FileManager.default.removeItem(at: options.stateDirectory.appendingPathComponent("pods"))
    }

    /// Removes what a killed run of the cluster left: processes recorded in the state
    /// directory, pod network namespaces with the cluster's prefix, and the pods' files.
    public static func removeLeftovers(names: ClusterNames, stateDirectory: URL) async {
        removeRecordedProcesses(stateDirectory: stateDirectory)
        let network = PodNetwork(names: names)
        let prefix = "\(names.prefix)pod-"
        for namespace in PodNetwork.namespaces() where namespace.hasPrefix(prefix) {
            PodNetwork.removeNamespace(namespace)
        }
        _ = network
        try? FileManager.default.removeItem(at: stateDirectory.appendingPathComponent("pods"))
    }

    /// Kills the process groups of `pods/*/procs/*` whose leader is still the recorded process
    /// (same start time), or which have members left after their leader died.
    static func removeRecordedProcesses(stateDirectory: URL) {
        let pods = stateDirectory.appendingPathComponent("pods")
        for uid in (try? FileManager.default.contentsOfDirectory(atPath: pods.path)) ?? [] {
            let procs = pods.appendingPathComponent(uid).appendingPathComponent("procs")
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: procs.path)) ?? [] {
                guard let text = try? String(contentsOf: procs.appendingPathComponent(entry), encoding: .utf8) else { continue }
                let fields = text.split(whereSeparator: \.isWhitespace)
                guard fields.count == 2, let pid = Int32(fields[0]), pid > 1, let started = UInt64(fields[1]) else { continue }
                if let now = startTime(of: pid) {
                    guard now == started else { continue }
                    kill(-pid, SIGKILL)
                    kill(pid, SIGKILL)
                } else if processGroupHasMembers(pid) {
                    kill(-pid, SIGKILL)
                }
            }
        }
    }

    /// Whether a live process of process group `group` remains.
    static func processGroupHasMembers(_ group: Int32) -> Bool {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // Zombies are dead already (their reaper may be slow).
            if fields.count > 2, Int32(fields[2]) == group, fields[0] != "Z" { return true }
        }
        return false
    }
}
