import ArgumentParser
import Foundation
import Sandbox
import Tunnel

@main
struct SandboxClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox-cluster",
        abstract: "A stand-in Kubernetes cluster (API server, controllers, node, cluster network) for tests and demos.",
        subcommands: [Up.self, Down.self, Status.self, Run.self, Serve.self, ContainerExec.self])
}

/// Where a named cluster keeps its kubeconfig, log, port and pid.
struct StateLocation {
    static var base: URL {
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            return URL(fileURLWithPath: runtime).appendingPathComponent("sandbox-cluster")
        }
        return URL(fileURLWithPath: "/tmp/sandbox-cluster-\(getuid())")
    }

    static func directory(name: String, override: String?) -> URL {
        if let override { return URL(fileURLWithPath: override) }
        return base.appendingPathComponent(name)
    }
}

struct ClusterOptions: ParsableArguments {
    @Option(help: "The cluster's name; several clusters with different names can run at once.")
    var name: String = "sandbox"

    @Option(help: "Where to keep the kubeconfig, log and pid file (default: $XDG_RUNTIME_DIR/sandbox-cluster/NAME or /tmp/sandbox-cluster-UID/NAME).")
    var stateDir: String?

    var directory: URL { StateLocation.directory(name: name, override: stateDir) }

    func validate() throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ValidationError("--name '\(name)' may only contain letters, digits, '-' and '_'.")
        }
    }
}

enum ClusterError: Error, CustomStringConvertible {
    case alreadyRunning(String, pid: Int32)
    case notReady(String, log: String)
    case spawnFailed(Int32)
    case notRunning(String)
    case serveFailed(String, reason: String, log: String)
    case noNetwork(String)

    var description: String {
        switch self {
        case .alreadyRunning(let name, let pid):
            "cluster '\(name)' already runs (pid \(pid)); stop it with 'sandbox-cluster down --name \(name)' or pick another --name"
        case .notReady(let name, let log):
            "cluster '\(name)' did not become ready within \(Int(Up.readyTimeout)) seconds; see \(log)"
        case .spawnFailed(let code):
            "could not start the server process (posix_spawn error \(code)); check that the executable is readable"
        case .serveFailed(let name, let reason, let log):
            "cluster '\(name)' could not start: \(reason) (log: \(log))"
        case .notRunning(let name):
            "cluster '\(name)' is not running; start it with 'sandbox-cluster up --name \(name)'"
        case .noNetwork(let name):
            "cluster '\(name)' runs without a network ('--node virtual'), so it has no workstation namespace; restart it with 'sandbox-cluster up --name \(name)' as root"
        }
    }
}

/// Reads the pid file; nil when missing or when that process is gone.
func runningPID(in directory: URL) -> Int32? {
    guard let text = try? String(contentsOf: directory.appendingPathComponent("pid"), encoding: .utf8),
          let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, isAlive(pid)
    else { return nil }
    return pid
}

/// Whether `pid` runs (a zombie, dead but not yet reaped, does not).
func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")"),
          stat.index(end, offsetBy: 2) < stat.endIndex
    else { return false }
    return stat[stat.index(end, offsetBy: 2)] != "Z"
}

/// What runs the pods. `process` (the default) makes the cluster network (node and workstation
/// namespaces, service rules, cluster DNS; needs root) for the process node; `virtual` runs
/// the API server alone, pods Running without processes, no root needed. The process node runs
/// each pod in its own network and mount namespaces, attached to the node namespace's bridge.
enum NodeKind: String, ExpressibleByArgument, CaseIterable {
    case process
    case virtual
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a cluster in the background and print its kubeconfig path once it serves.")
    static let readyTimeout: TimeInterval = 10

    @OptionGroup var options: ClusterOptions

    @Option(help: "The address the API server listens on (on the host; the cluster side is always 192.0.2.1:6443).")
    var address: String = "127.0.0.1"

    @Option(help: "The node that runs pods: 'process' (default, needs root: network namespaces, services, DNS) or 'virtual' (pods Running and Ready without processes or network).")
    var node: NodeKind = .process

    @Option(name: .customLong("link-delay-ms"), help: "Delay every packet between the workstation and the cluster by this many milliseconds each way (ping shows twice this).")
    var linkDelayMs: Int?

    func validate() throws {
        if let linkDelayMs, linkDelayMs < 0 || linkDelayMs > 10_000 {
            throw ValidationError("--link-delay-ms must be between 0 and 10000.")
        }
        if linkDelayMs != nil, node == .virtual {
            throw ValidationError("--link-delay-ms needs the cluster network; drop '--node virtual'.")
        }
    }

    @Option(help: "A YAML file mapping images to executables for the process node (images: {REPOSITORY: {executable: PATH, args: [...]}}).")
    var images: String?

    func run() async throws {
        let started = ContinuousClock.now
        if node == .process, geteuid() != 0 { throw ClusterNetworkError.notRoot }
        let dir = options.directory
        if let pid = runningPID(in: dir) { throw ClusterError.alreadyRunning(options.name, pid: pid) }
        // A killed run's pods (processes, namespaces) go before its state does.
        await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("server.log")
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var arguments = ["serve", "--name", options.name, "--state-dir", dir.path, "--address", address, "--node", node.rawValue]
        if let linkDelayMs { arguments += ["--link-delay-ms", String(linkDelayMs)] }
        if let images { arguments += ["--images", URL(fileURLWithPath: images).standardizedFileURL.path] }
        let pid = try spawnDetached(executable, arguments: arguments, log: log.path)
        let deadline = Date().addingTimeInterval(Self.readyTimeout)
        let kubeconfig = dir.appendingPathComponent("kubeconfig")
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { break }  // it exited: the log says why
            // The server writes `port` last, once the network and DNS serve too.
            if let port = try? String(contentsOf: dir.appendingPathComponent("port"), encoding: .utf8),
               let caPEM = try? String(contentsOf: dir.appendingPathComponent("ca.crt"), encoding: .utf8),
               await ReadinessProbe.isReady(host: address == "0.0.0.0" ? "127.0.0.1" : address,
                                            port: Int(port.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, caPEM: caPEM)
            {
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                FileHandle.standardError.write(Data("cluster '\(options.name)' ready in \(String(format: "%.2f", seconds)) s\n".utf8))
                print(kubeconfig.path)
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(pid, SIGKILL)
        // Whatever the killed server had made (namespaces) goes too.
        ClusterTopology.removeLeftovers(cluster: options.name)
        let reason = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").last { $0.hasPrefix("error: ") }
        if let reason { throw ClusterError.serveFailed(options.name, reason: String(reason.dropFirst(7)), log: log.path) }
        throw ClusterError.notReady(options.name, log: log.path)
    }

    /// Starts the server in its own session so it outlives this command and its terminal.
    func spawnDetached(_ path: String, arguments: [String], log: String) throws -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 0x80) is a macro Swift does not import.
        posix_spawnattr_setflags(&attributes, 0x80)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Keep none of this process's other descriptors (a caller's pipe would never see EOF).
        for fd in Int32(3)..<Int32(1024) where fcntl(fd, F_GETFD) != -1 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard code == 0 else { throw ClusterError.spawnFailed(code) }
        return pid
    }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a cluster and remove everything it made (also what a killed one left: namespaces, processes, files).")

    @OptionGroup var options: ClusterOptions

    func run() async throws {
        let dir = options.directory
        var pids = serverProcesses(name: options.name)
        if let pid = runningPID(in: dir), !pids.contains(pid) { pids.append(pid) }
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while pids.contains(where: isAlive) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        for pid in pids where isAlive(pid) { kill(pid, SIGKILL) }
        let leftovers = ClusterTopology.removeLeftovers(cluster: options.name)
        if !pids.isEmpty {
            print("cluster '\(options.name)' stopped")
        } else if !leftovers.isEmpty {
            print("cluster '\(options.name)' was not running; removed what it left: \(leftovers.joined(separator: ", "))")
        } else {
            print("cluster '\(options.name)' is not running")
        }
        // Whatever a killed server's process node left (pods' namespaces and processes).
        await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
        try? FileManager.default.removeItem(at: dir)
    }
}

/// The `sandbox-cluster serve --name NAME` processes alive now (found by their command line, so
/// a server whose pid file is gone is found too).
func serverProcesses(name: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.count > 3, arguments[0].hasSuffix("sandbox-cluster"), arguments[1] == "serve" else { return false }
        return zip(arguments, arguments.dropFirst()).contains { $0 == "--name" && $1 == name }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show which clusters run, with their API server URL and kubeconfig.")

    func run() async throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: StateLocation.base.path)) ?? []
        var any = false
        for name in names.sorted() {
            let dir = StateLocation.base.appendingPathComponent(name)
            let port = (try? String(contentsOf: dir.appendingPathComponent("port"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            if let pid = runningPID(in: dir) {
                print("\(name): running (pid \(pid)), API server on port \(port), kubeconfig \(dir.appendingPathComponent("kubeconfig").path)")
                let namespaces = ClusterTopology.namespaces(cluster: name)
                if !namespaces.isEmpty {
                    print("  network: namespaces \(namespaces.joined(separator: " ")); workstation kubeconfig \(dir.appendingPathComponent("workstation.kubeconfig").path) (https://\(ClusterAddresses.apiServer):\(ClusterAddresses.apiServerPort)); 'sandbox-cluster run --name \(name) -- CMD' runs CMD there")
                }
            } else {
                print("\(name): not running (stale state in \(dir.path); 'sandbox-cluster down --name \(name)' removes it)")
            }
            any = true
        }
        if !any { print("no clusters; start one with 'sandbox-cluster up'") }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in the cluster's workstation namespace, with KUBECONFIG set to its kubeconfig; its exit code is passed through.",
        usage: "sandbox-cluster run [--name NAME] -- COMMAND [ARGUMENT...]")

    @OptionGroup var options: ClusterOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after '--'.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after '--', e.g. 'sandbox-cluster run -- kubectl get ns'.") }
    }

    func run() throws {
        guard runningPID(in: options.directory) != nil else { throw ClusterError.notRunning(options.name) }
        let names = ClusterNames(cluster: options.name)
        guard NetworkNamespace.exists(names.workstationNamespace) else { throw ClusterError.noNetwork(options.name) }
        let kubeconfig = options.directory.appendingPathComponent("workstation.kubeconfig").path
        // `ip netns exec` also mounts /etc/netns/<ws>/resolv.conf over /etc/resolv.conf.
        let arguments = ["ip", "netns", "exec", names.workstationNamespace, "env", "KUBECONFIG=\(kubeconfig)"] + command
        let argv = arguments.map { strdup($0) } + [nil]
        let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"
        execv(ip, argv)
        throw ClusterNetworkError.system("run \(ip)", errno: errno)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the API server in the foreground (what 'up' starts in the background).", shouldDisplay: false)

    @OptionGroup var options: ClusterOptions

    @Option(help: "The address to listen on.")
    var address: String = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port).")
    var port: Int = 0

    @Option(help: "'process' makes the cluster network and runs pods as processes; 'virtual' runs without either.")
    var node: NodeKind = .process

    @Option(name: .customLong("link-delay-ms"), help: "Delay on the workstation link, milliseconds each way.")
    var linkDelayMs: Int?

    @Option(help: "A YAML file mapping images to executables for the process node.")
    var images: String?

    func run() async throws {
        ProcessMemory.keepFreedBuffers()
        let dir = options.directory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Signals are watched from the start, so a `down` during start-up still cleans up.
        let termination = TerminationSignal()
        var topology: ClusterTopology?
        var network: ClusterNetwork?
        var server: APIServer?
        var failure: (any Error)?
        do {
            if node == .process {
                topology = try ClusterTopology.create(cluster: options.name, linkDelay: linkDelayMs.map { .milliseconds($0) })
            }
            let listener = topology.map { APIServer.ClusterListener(names: $0.names) }
            var mode = NodeMode.virtual
            if node == .process {
                await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
                mode = .process(ProcessNodeOptions(
                    cluster: options.name, stateDirectory: dir, imageMappingFile: images.map { URL(fileURLWithPath: $0) }))
            }
            let started = try await APIServer.start(.init(
                name: options.name, host: address, port: port, clusterListener: listener, node: mode))
            server = started
            if let topology { network = try await ClusterNetwork.start(server: started, topology: topology) }
            try started.writeKubeconfig(to: dir.appendingPathComponent("kubeconfig"))
            if let clusterURL = started.clusterURL {
                let url = dir.appendingPathComponent("workstation.kubeconfig")
                try started.kubeconfig(server: clusterURL).write(to: url, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
            }
            try started.certificateAuthority.certificatePEM.write(to: dir.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
            try String(getpid()).write(to: dir.appendingPathComponent("pid"), atomically: true, encoding: .utf8)
            // Last: `up` takes the port file as the sign that everything serves.
            try String(started.port).write(to: dir.appendingPathComponent("port"), atomically: true, encoding: .utf8)
            print("sandbox API server '\(options.name)' serving on \(started.url)\(started.clusterURL.map { " and \($0) in \(topology!.names.nodeNamespace)" } ?? "")")
            await termination.wait()
            print("stopping")
        } catch {
            print("error: \(error)")
            failure = error
        }
        await network?.stop()
        try? await server?.shutdown()
        topology?.destroy()
        if let failure { throw failure }
    }
}

/// SIGTERM or SIGINT, watched from creation on.
final class TerminationSignal {
    private let stream: AsyncStream<Void>
    private let sources: [any DispatchSourceSignal]

    init() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.stream = stream
        sources = [SIGTERM, SIGINT].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
    }

    func wait() async {
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
