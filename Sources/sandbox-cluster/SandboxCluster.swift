import ArgumentParser
import Foundation
import Sandbox

@main
struct SandboxClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox-cluster",
        abstract: "A stand-in Kubernetes cluster (API server, controllers, virtual node) for tests and demos.",
        subcommands: [Up.self, Down.self, Status.self, Serve.self, ContainerExec.self])
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

    var description: String {
        switch self {
        case .alreadyRunning(let name, let pid):
            "cluster '\(name)' already runs (pid \(pid)); stop it with 'sandbox-cluster down --name \(name)' or pick another --name"
        case .notReady(let name, let log):
            "cluster '\(name)' did not become ready within 3 seconds; see \(log)"
        case .spawnFailed(let code):
            "could not start the server process (posix_spawn error \(code)); check that the executable is readable"
        }
    }
}

/// Reads the pid file; nil when missing or when that process is gone.
func runningPID(in directory: URL) -> Int32? {
    guard let text = try? String(contentsOf: directory.appendingPathComponent("pid"), encoding: .utf8),
          let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0
    else { return nil }
    return pid
}

/// What runs the pods: the virtual node (no processes) or the process node (each pod in its
/// own network and mount namespaces; needs the cluster's node namespace).
enum NodeKind: String, ExpressibleByArgument, CaseIterable {
    case virtual
    case process
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a cluster in the background and print its kubeconfig path once it serves.")

    @OptionGroup var options: ClusterOptions

    @Option(help: "The address the API server listens on.")
    var address: String = "127.0.0.1"

    @Option(help: "The node that runs pods: 'virtual' makes them Running and Ready without processes; 'process' runs them.")
    var node: NodeKind = .virtual

    @Option(help: "A YAML file mapping images to executables for the process node (images: {REPOSITORY: {executable: PATH, args: [...]}}).")
    var images: String?

    func run() async throws {
        let dir = options.directory
        if let pid = runningPID(in: dir) { throw ClusterError.alreadyRunning(options.name, pid: pid) }
        // A killed run's pods (processes, namespaces) go before its state does.
        await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("server.log")
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var arguments = ["serve", "--name", options.name, "--state-dir", dir.path, "--address", address, "--node", node.rawValue]
        if let images { arguments += ["--images", URL(fileURLWithPath: images).standardizedFileURL.path] }
        let pid = try spawnDetached(executable, arguments: arguments, log: log.path)
        let deadline = Date().addingTimeInterval(3)
        let kubeconfig = dir.appendingPathComponent("kubeconfig")
        while Date() < deadline {
            if kill(pid, 0) != 0 { break }
            if let port = try? String(contentsOf: dir.appendingPathComponent("port"), encoding: .utf8),
               let caPEM = try? String(contentsOf: dir.appendingPathComponent("ca.crt"), encoding: .utf8),
               await ReadinessProbe.isReady(host: address == "0.0.0.0" ? "127.0.0.1" : address,
                                            port: Int(port.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, caPEM: caPEM)
            {
                print(kubeconfig.path)
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
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
    static let configuration = CommandConfiguration(abstract: "Stop a cluster and remove everything it made.")

    @OptionGroup var options: ClusterOptions

    func run() async throws {
        let dir = options.directory
        if let pid = runningPID(in: dir) {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while kill(pid, 0) == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            print("cluster '\(options.name)' stopped")
        } else {
            print("cluster '\(options.name)' is not running")
        }
        // Whatever a killed server's process node left (pods' namespaces and processes).
        await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
        try? FileManager.default.removeItem(at: dir)
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
            } else {
                print("\(name): not running (stale state in \(dir.path); 'sandbox-cluster down --name \(name)' removes it)")
            }
            any = true
        }
        if !any { print("no clusters; start one with 'sandbox-cluster up'") }
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

    @Option(help: "The node that runs pods ('process' needs the cluster's node network namespace).")
    var node: NodeKind = .virtual

    @Option(help: "A YAML file mapping images to executables for the process node.")
    var images: String?

    func run() async throws {
        let dir = options.directory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let mode: NodeMode
        switch node {
        case .virtual: mode = .virtual
        case .process:
            await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
            mode = .process(ProcessNodeOptions(cluster: options.name, stateDirectory: dir, imageMappingFile: images.map { URL(fileURLWithPath: $0) }))
        }
        let server = try await APIServer.start(.init(name: options.name, host: address, port: port, node: mode))
        try server.writeKubeconfig(to: dir.appendingPathComponent("kubeconfig"))
        try server.certificateAuthority.certificatePEM.write(to: dir.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try String(getpid()).write(to: dir.appendingPathComponent("pid"), atomically: true, encoding: .utf8)
        try String(server.port).write(to: dir.appendingPathComponent("port"), atomically: true, encoding: .utf8)
        print("sandbox API server '\(options.name)' serving on \(server.url)")
        await waitForTermination()
        print("stopping")
        try await server.shutdown()
    }

    func waitForTermination() async {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let sources = [SIGTERM, SIGINT].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
