import Foundation
import KubeClient
import SandboxAPIServer
import SandboxNetwork

/// Runs one pod on the process node, as the kubelet's pod worker does: network, volumes, init
/// containers in order, then the containers with their restart policy, back-off and probes,
/// keeping the pod's status current; and graceful termination.
actor PodWorker {
    let node: ProcessNode
    let uid: String
    let namespace: String
    let name: String
    let directory: URL
    private(set) var pod: JSONValue
    private(set) var podIP: String?
    var initContainers: [ContainerState]
    var containers: [ContainerState]
    var initialized = false
    var networkReady = false
    var startTime: String?
    var terminating = false
    var terminated = false
    private var tasks: [Task<Void, Never>] = []
    var probeTasks: [String: Task<Void, Never>] = [:]
    /// Raised when a termination with a shorter grace period arrives.
    private var killNow = false
    /// The termination under way: later calls wait for it.
    private var termination: Task<Void, Never>?
    /// Exec sessions still running (they go with the pod, as with a container runtime).
    private var execs: Set<pid_t> = []

    /// Tracks an exec process; false when the pod is terminating (the caller kills it).
    func addExec(_ pid: pid_t) -> Bool {
        guard !terminating else { return false }
        execs.insert(pid)
        try? "\(pid) \(SandboxNode.startTime(of: pid) ?? 0)\n".write(to: directory.appendingPathComponent("procs/exec-\(pid)"), atomically: false, encoding: .utf8)
        return true
    }

    func removeExec(_ pid: pid_t) {
        execs.remove(pid)
        unlink(directory.appendingPathComponent("procs/exec-\(pid)").path)
    }

    init(node: ProcessNode, pod: StoredObject) {
        self.node = node
        self.uid = pod.uid
        self.namespace = pod.namespace
        self.name = pod.name
        self.pod = pod.value
        self.directory = node.options.stateDirectory.appendingPathComponent("pods").appendingPathComponent(pod.uid)
        func states(_ key: String, isInit: Bool) -> [ContainerState] {
            (pod.value["spec"]?[key]?.arrayValue ?? []).map {
                ContainerState(name: $0["name"]?.stringValue ?? "", image: $0["image"]?.stringValue ?? "", isInit: isInit)
            }
        }
        initContainers = states("initContainers", isInit: true)
        containers = states("containers", isInit: false)
        if !initContainers.isEmpty {
            for index in initContainers.indices { initContainers[index].phase = .waiting(reason: "PodInitializing", message: nil) }
            for index in containers.indices { containers[index].phase = .waiting(reason: "PodInitializing", message: nil) }
        }
    }

    var restartPolicy: String { pod["spec"]?["restartPolicy"]?.stringValue ?? "Always" }
    var specPath: URL { directory.appendingPathComponent("specs") }
    nonisolated var networkNamespacePath: String { PodNetwork.path(node.options.names.podNamespace(uid: uid)) }

    // MARK: Start

    func start() {
        tasks.append(Task { await self.run() })
    }

    private func run() async {
        let started = ContinuousClock.now
        do {
            // Launch specs hold the containers' environment (secrets): only root reads them.
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for sub in ["volumes", "etc", "logs", "specs", "procs", "scratch"] {
                try FileManager.default.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            let ip = node.api.podIPs.allocate()
            try await node.network.create(uid: uid, address: ip)
            podIP = ip
            networkReady = true
            try writeEtc(ip: ip)
        } catch {
            for index in containers.indices { containers[index].phase = .waiting(reason: "ContainerCreating", message: "\(error)") }
            node.log("pod \(namespace)/\(name): cannot set up its network: \(error)")
            publish()
            return
        }
        startTime = Timestamp.now()
        // Volumes wait for their configMaps and secrets, as the kubelet's mount retries do.
        while !terminating {
            do throws(ContainerConfigError) {
                try volumes().write()
                break
            } catch {
                for index in containers.indices { containers[index].phase = .waiting(reason: "ContainerCreating", message: error.description) }
                publish()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        publish()
        for index in initContainers.indices {
            guard !terminating else { return }
            let succeeded = await runInit(index)
            guard succeeded else { return }
        }
        guard !terminating else { return }
        initialized = true
        for index in containers.indices {
            containers[index].phase = .waiting(reason: "ContainerCreating", message: nil)
            tasks.append(Task { await self.containerLoop(index) })
        }
        publish()
        node.log("pod \(namespace)/\(name) set up in \(ContinuousClock.now - started)")
    }

    func volumes() -> PodVolumes {
        PodVolumes(directory: directory.appendingPathComponent("volumes"), pod: pod, podIP: podIP ?? "",
                   hostIP: ClusterAddresses.nodeBridge, inputs: node.inputs, token: node.api.podServiceAccountToken(pod), caPEM: node.caPEM)
    }

    /// resolv.conf and hosts as the kubelet writes them for a ClusterFirst pod.
    func writeEtc(ip: String) throws {
        let domain = ClusterAddresses.clusterDomain
        var search = ["\(namespace).svc.\(domain)", "svc.\(domain)", domain]
        var nameservers = [ClusterAddresses.clusterDNS]
        var options = ["ndots:5"]
        if let config = pod["spec"]?["dnsConfig"] {
            nameservers += (config["nameservers"]?.arrayValue ?? []).compactMap(\.stringValue)
            search += (config["searches"]?.arrayValue ?? []).compactMap(\.stringValue)
            options += (config["options"]?.arrayValue ?? []).compactMap { option in
                option["name"]?.stringValue.map { name in option["value"]?.stringValue.map { "\(name):\($0)" } ?? name }
            }
        }
        let resolv = "search \(search.joined(separator: " "))\n" + nameservers.map { "nameserver \($0)\n" }.joined()
            + "options \(options.joined(separator: " "))\n"
        try resolv.write(to: directory.appendingPathComponent("etc/resolv.conf"), atomically: false, encoding: .utf8)
        let hostname = pod["spec"]?["hostname"]?.stringValue ?? name
        var hosts = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            + "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        if let subdomain = pod["spec"]?["subdomain"]?.stringValue {
            hosts += "\(ip)\t\(hostname).\(subdomain).\(namespace).svc.\(domain)\t\(hostname)\n"
        } else {
            hosts += "\(ip)\t\(hostname)\n"
        }
        for alias in pod["spec"]?["hostAliases"]?.arrayValue ?? [] {
            let names = (alias["hostnames"]?.arrayValue ?? []).compactMap(\.stringValue)
            hosts += "\n# Entries added by HostAliases.\n\(alias["ip"]?.stringValue ?? "")\t\(names.joined(separator: "\t"))\n"
        }
        try hosts.write(to: directory.appendingPathComponent("etc/hosts"), atomically: false, encoding: .utf8)
    }

    // MARK: Containers

    func spec(of state: ContainerState) -> JSONValue? {
        let key = state.isInit ? "initContainers" : "containers"
        return (pod["spec"]?[key]?.arrayValue ?? []).first { $0["name"]?.stringValue == state.name }
    }

    func state(_ isInit: Bool, _ index: Int) -> ContainerState { isInit ? initContainers[index] : containers[index] }

    func update(_ isInit: Bool, _ index: Int, _ change: (inout ContainerState) -> Void) {
        if isInit { change(&initContainers[index]) } else { change(&containers[index]) }
    }

    /// Runs init container `index` until it succeeds; false when the pod failed or terminates.
    private func runInit(_ index: Int) async -> Bool {
        while !terminating {
            guard let code = await runOnce(isInit: true, index) else {
                if terminating { return false }
                continue
            }
            if code == 0 { return true }
            if restartPolicy == "Never" {
                publish()
                return false
            }
            guard await backOff(isInit: true, index) else { return false }
        }
        return false
    }

    /// The restart loop of container `index`.
    private func containerLoop(_ index: Int) async {
        while !terminating {
            guard let code = await runOnce(isInit: false, index) else { continue }
            if terminating { return }
            let restart = restartPolicy == "Always" || (restartPolicy == "OnFailure" && code != 0)
            if !restart {
                publish()
                return
            }
            guard await backOff(isInit: false, index) else { return }
        }
    }

    /// Waits out the back-off before a restart (CrashLoopBackOff); false when terminating.
    private func backOff(isInit: Bool, _ index: Int) async -> Bool {
        let current = state(isInit, index)
        let delay = node.options.backOff(restarts: current.restartCount)
        update(isInit, index) { $0.lastTerminated = $0.phase }
        if delay > .zero {
            let seconds = Int((Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18).rounded(.up))
            update(isInit, index) {
                $0.phase = .waiting(reason: "CrashLoopBackOff",
                                    message: "back-off \(seconds)s restarting failed container=\(current.name) pod=\(name)_\(namespace)(\(uid))")
            }
            publish()
            try? await Task.sleep(for: delay)
        }
        if terminating { return false }
        update(isInit, index) { $0.restartCount += 1 }
        return true
    }

    /// Starts the container once and waits for it; the exit code, or nil when it could not
    /// start (its waiting reason says why; the caller retries after a pause).
    private func runOnce(isInit: Bool, _ index: Int) async -> Int32? {
        let current = state(isInit, index)
        guard let spec = spec(of: current) else { return nil }
        let command = (spec["command"]?.arrayValue ?? []).compactMap(\.stringValue)
        let args = (spec["args"]?.arrayValue ?? []).compactMap(\.stringValue)
        let environment: [(String, String)]
        do throws(ContainerConfigError) {
            environment = try ContainerEnvironment.build(pod: pod, container: spec, podIP: podIP ?? "",
                                                         hostIP: ClusterAddresses.nodeBridge, inputs: node.inputs)
        } catch {
            update(isInit, index) { $0.phase = .waiting(reason: "CreateContainerConfigError", message: error.description) }
            publish()
            try? await Task.sleep(for: .seconds(1))
            return nil
        }
        let lookup = Dictionary(environment, uniquingKeysWith: { _, last in last })
        let expand = { (text: String) in ContainerEnvironment.expand(text) { lookup[$0] } }
        let argv: [String]
        switch node.catalog.resolve(image: current.image, command: command.map(expand), args: args.map(expand)) {
        case .run(let resolved):
            argv = resolved
        case .pullFailed(let message):
            update(isInit, index) { $0.phase = .waiting(reason: "ErrImagePull", message: message) }
            publish()
            try? await Task.sleep(for: min(node.options.restartBackOff, .seconds(10)))
            if terminating { return nil }
            update(isInit, index) { $0.phase = .waiting(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(current.image)\"") }
            publish()
            try? await Task.sleep(for: node.options.restartBackOff)
            return nil
        }
        var env = environment.map { "\($0.0)=\($0.1)" }
        let defined = Set(environment.map(\.0))
        if !defined.contains("PATH") {
            env.insert("PATH=\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")", at: 0)
        }
        if !defined.contains("HOSTNAME") { env.insert("HOSTNAME=\(name)", at: 1) }
        if !defined.contains("HOME") { env.append("HOME=/root") }
        let workingDirectory = spec["workingDir"]?.stringValue ?? ""
        let launch = LaunchSpec(
            networkNamespace: networkNamespacePath, hostname: pod["spec"]?["hostname"]?.stringValue ?? name,
            mounts: PodVolumes.mounts(of: spec, pod: pod, volumesDirectory: directory.appendingPathComponent("volumes"))
                + [.init(source: directory.appendingPathComponent("etc/resolv.conf").path, target: "/etc/resolv.conf", readOnly: true),
                   .init(source: directory.appendingPathComponent("etc/hosts").path, target: "/etc/hosts", readOnly: false)],
            environment: env, arguments: argv, workingDirectory: workingDirectory, parentPID: getpid(),
            scratchDirectory: directory.appendingPathComponent("scratch").path)
        let instance = current.restartCount
        let logDirectory = directory.appendingPathComponent("logs").appendingPathComponent(current.name)
        try? FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        let process: ContainerProcess
        do {
            process = try await ContainerProcess.start(
                launch, specPath: specPath.appendingPathComponent("\(current.name).json").path, launcher: node.options.launcher,
                logPath: logDirectory.appendingPathComponent("\(instance).log").path,
                record: directory.appendingPathComponent("procs/\(current.name)").path, spawner: node.spawner)
        } catch {
            node.log("pod \(namespace)/\(name): cannot start container \(current.name): \(error)")
            let now = Timestamp.now()
            update(isInit, index) { $0.phase = .terminated(exitCode: 128, reason: "StartError", startedAt: now, finishedAt: now) }
            publish()
            return 128
        }
        let startedAt = Timestamp.now()
        let hasReadiness = spec["readinessProbe"] != nil
        let hasStartup = !isInit && spec["startupProbe"] != nil
        update(isInit, index) {
            $0.process = process
            $0.phase = .running(startedAt: startedAt)
            $0.started = !hasStartup
            $0.ready = !isInit && !hasReadiness && !hasStartup
            $0.environment = env
            $0.workingDirectory = workingDirectory
        }
        if terminating { process.signal(SIGKILL) }
        publish()
        if !isInit { startProbes(index, spec: spec, process: process) }
        let code = await process.exit.value
        process.removeRecord()
        probeTasks.removeValue(forKey: current.name)?.cancel()
        let finishedAt = Timestamp.now()
        update(isInit, index) {
            $0.process = nil
            $0.ready = false
            $0.phase = .terminated(exitCode: code, reason: code == 0 ? "Completed" : "Error", startedAt: startedAt, finishedAt: finishedAt)
        }
        publish()
        return code
    }

    /// The pod IP, for probes.
    func address() -> String? { podIP }

    // MARK: Termination

    /// How long a terminating pod waits for the service rules to drop it before SIGTERM.
    static let unroutingTimeout = Duration.seconds(2)

    func gracePeriod(_ requested: Int?) -> Int {
        requested ?? pod["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30
    }

    /// SIGTERM to the process group, SIGKILL after `grace` seconds; returns once it exited.
    func stop(_ process: ContainerProcess, grace: Int) async {
        process.signal(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(grace)
        while !process.hasExited, !killNow, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard !process.hasExited else { return }
        process.signal(SIGKILL)
        // SIGKILL cannot be ignored, but don't hang on a process stuck in the kernel.
        let killed = ContinuousClock.now + .seconds(5)
        while !process.hasExited, ContinuousClock.now < killed {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops every container (SIGTERM, then SIGKILL after `grace` seconds), removes the pod's
    /// network and files, and, when `finalize`, removes the pod object from the store.
    func terminate(grace requested: Int?, finalize: Bool) async {
        let grace = gracePeriod(requested)
        if grace == 0 { killNow = true }
        if let termination {
            await termination.value
            return
        }
        let task = Task { await self.stopAll(grace: grace, finalize: finalize) }
        termination = task
        await task.value
    }

    private func stopAll(grace: Int, finalize: Bool) async {
        terminating = true
        for task in probeTasks.values { task.cancel() }
        // New connections must stop arriving before the containers are told to stop (a
        // rolling update would otherwise refuse the requests the old rules still send here).
        if grace > 0, let podIP, !killNow {
            await node.api.node.serviceRouting.waitUntilUnrouted(podIP, timeout: min(.seconds(grace), Self.unroutingTimeout))
        }
        let running = (initContainers + containers).compactMap(\.process)
        await withTaskGroup(of: Void.self) { group in
            for process in running { group.addTask { await self.stop(process, grace: grace) } }
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        for pid in execs {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        await teardown()
        if finalize { node.finalizeDeletion(namespace: namespace, name: name, uid: uid) }
        node.forget(uid: uid)
    }

    /// Removes the network namespace and the pod's files (its processes are gone).
    func teardown() async {
        guard !terminated else { return }
        terminated = true
        if networkReady { await node.network.remove(uid: uid) }
        networkReady = false
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Runtime queries

    /// The running container an exec or port-forward reaches.
    func runningContainer(_ container: String) throws(PodRuntimeError) -> ContainerState {
        guard let state = (containers + initContainers).first(where: { $0.name == container }) else {
            throw .containerNotFound(container: container, pod: name, available: containers.map(\.name))
        }
        guard state.isRunning, state.process != nil else { throw .containerNotRunning(container: container, pod: name) }
        return state
    }

    var isNetworkReady: Bool { networkReady && !terminated }
}
