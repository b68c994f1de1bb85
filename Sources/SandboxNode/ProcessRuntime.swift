import ChildProcess
import CLinuxSupport
import Foundation
import SandboxAPIServer
import SandboxNetwork

/// The process node's `PodRuntime`: port-forward connections made inside the pod's network
/// namespace, exec in a running container's namespaces, and the containers' CRI log files.
struct ProcessRuntime: PodRuntime {
    let node: ProcessNode

    func worker(_ namespace: String, _ pod: String) async throws(PodRuntimeError) -> PodWorker {
        guard let worker = node.worker(namespace: namespace, pod: pod), await worker.isNetworkReady else {
            throw .podNotRunning(namespace: namespace, pod: pod)
        }
        return worker
    }

    func connect(namespace: String, pod: String, port: Int) async throws -> Int32 {
        let worker = try await worker(namespace, pod)
        do {
            return try await connectInNamespace(worker.networkNamespacePath, host: "127.0.0.1", port: port)
        } catch PodRuntimeError.failed(let message) where message.contains("refused") {
            throw PodRuntimeError.connectionRefused(pod: pod, port: port)
        }
    }

    func exec(_ request: ExecRequest) async throws -> ExecProcess {
        let worker = try await worker(request.namespace, request.pod)
        let container = try await worker.runningContainer(request.container)
        guard let target = container.process, !request.command.isEmpty else {
            throw PodRuntimeError.executableNotFound(request.command.first ?? "")
        }
        var environment = container.environment
        if request.tty, !environment.contains(where: { $0.hasPrefix("TERM=") }) { environment.append("TERM=xterm") }
        let spec = LaunchSpec(
            networkNamespace: nil, joinPID: target.pid, hostname: request.pod, mounts: [], environment: environment,
            arguments: request.command, workingDirectory: container.workingDirectory, parentPID: getpid(),
            controllingTerminal: request.tty)
        // An unknown command fails in the launcher; report it as the kubelet does, up front.
        if !request.command[0].contains("/") {
            guard (try? ContainerLauncher.resolve(request.command[0], environment: environment)) != nil else {
                throw PodRuntimeError.executableNotFound(request.command[0])
            }
        }
        let specFile = worker.directory.appendingPathComponent("specs/exec-\(UUID().uuidString).json")
        try JSONEncoder().encode(spec).write(to: specFile)
        let launcher = node.options.launcher
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        let stdio: (Int32, Int32, Int32)
        var result: (stdin: Int32?, stdout: Int32?, stderr: Int32?, terminal: Int32?)
        if request.tty {
            var slave: Int32 = -1
            let master = lx_open_pty(&slave)
            guard master >= 0 else { throw PodRuntimeError.failed("cannot open a pseudo-terminal: \(String(cString: strerror(errno)))") }
            childEnds.append(slave)
            stdio = (slave, slave, slave)
            result = (request.stdin ? dup(master) : nil, master, nil, master)
        } else {
            let input: Int32
            if request.stdin {
                let pipe = try makePipe()
                input = pipe.read
                result.stdin = pipe.write
            } else {
                input = open("/dev/null", O_RDONLY | O_CLOEXEC)
                result.stdin = nil
            }
            let out = try makePipe()
            let err = try makePipe()
            childEnds += [input, out.write, err.write]
            stdio = (input, out.write, err.write)
            result.stdout = out.read
            result.stderr = err.read
            result.terminal = nil
        }
        parentEnds = [result.stdin, result.stdout, result.stderr].compactMap { $0 }
        let pid: pid_t
        do {
            pid = try await node.spawner.run { try spawn(launcher, [launcher, "container-exec", specFile.path], stdio: stdio) }
        } catch {
            parentEnds.forEach { close($0) }
            throw error
        }
        if await !worker.addExec(pid) {
            kill(pid, SIGKILL)
        }
        let terminal = result.terminal
        return ExecProcess(
            pid: pid, stdin: result.stdin, stdout: result.stdout, stderr: result.stderr,
            wait: {
                let code = await ChildProcess.waitForExit(pid)
                await worker.removeExec(pid)
                unlink(specFile.path)
                return code
            },
            resize: { columns, rows in
                if let terminal { _ = lx_set_window_size(terminal, columns, rows) }
            })
    }

    func logFile(namespace: String, pod: String, container: String, previous: Bool) throws -> URL? {
        guard let directory = node.podDirectory(namespace: namespace, pod: pod) else { return nil }
        let logs = directory.appendingPathComponent("logs").appendingPathComponent(container)
        let instances = ((try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? [])
            .compactMap { name in name.hasSuffix(".log") ? Int(name.dropLast(4)) : nil }
            .sorted()
        guard let chosen = previous ? instances.dropLast().last : instances.last else { return nil }
        return logs.appendingPathComponent("\(chosen).log")
    }
}
