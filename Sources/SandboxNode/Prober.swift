import Foundation
import KubeClient
import SandboxAPIServer
import SandboxNetwork

/// A container's readiness or liveness probe, as the kubelet runs it: httpGet and tcpSocket
/// dialled from the node's network namespace to the pod IP, exec through the node's runtime.
struct Prober: Sendable {
    let worker: PodWorker
    let container: String
    /// The container's ports, for named probe ports.
    let ports: [JSONValue]

    /// Probes every `periodSeconds` and reports the outcome once `successThreshold` successes or
    /// `failureThreshold` failures in a row are reached (again after each report, until
    /// `report` answers false).
    func loop(_ probe: JSONValue, report: @Sendable (Bool) async -> Bool) async {
        let initialDelay = probe["initialDelaySeconds"]?.intValue ?? 0
        let period = max(probe["periodSeconds"]?.intValue ?? 10, 1)
        let timeout = max(probe["timeoutSeconds"]?.intValue ?? 1, 1)
        let successes = max(probe["successThreshold"]?.intValue ?? 1, 1)
        let failures = max(probe["failureThreshold"]?.intValue ?? 3, 1)
        if initialDelay > 0 { try? await Task.sleep(for: .seconds(initialDelay)) }
        var successRun = 0
        var failureRun = 0
        while !Task.isCancelled {
            let ok = await once(probe, timeout: timeout)
            if Task.isCancelled { return }
            if ok {
                successRun += 1
                failureRun = 0
                if successRun == successes, await !report(true) { return }
            } else {
                failureRun += 1
                successRun = 0
                if failureRun == failures {
                    if await !report(false) { return }
                    failureRun = 0
                }
            }
            try? await Task.sleep(for: .seconds(period))
        }
    }

    func once(_ probe: JSONValue, timeout: Int) async -> Bool {
        if let http = probe["httpGet"] {
            guard let port = resolvePort(http["port"]) else { return false }
            let address = await worker.address()
            let host = http["host"]?.stringValue ?? address ?? ""
            var headers = "Host: \(host):\(port)\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n"
            for header in http["httpHeaders"]?.arrayValue ?? [] {
                headers += "\(header["name"]?.stringValue ?? ""): \(header["value"]?.stringValue ?? "")\r\n"
            }
            let request = "GET \(http["path"]?.stringValue ?? "/") HTTP/1.1\r\n\(headers)\r\n"
            return await dial(host: host, port: port, timeout: timeout) { fd in
                _ = request.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
                var buffer = [UInt8](repeating: 0, count: 64)
                let count = read(fd, &buffer, buffer.count)
                guard count > 12 else { return false }
                let line = String(decoding: buffer[0..<count], as: UTF8.self)
                let parts = line.split(separator: " ")
                guard parts.count >= 2, let code = Int(parts[1]) else { return false }
                return (200..<400).contains(code)
            }
        }
        if let tcp = probe["tcpSocket"] {
            guard let port = resolvePort(tcp["port"]) else { return false }
            let address = await worker.address()
            let host = tcp["host"]?.stringValue ?? address ?? ""
            return await dial(host: host, port: port, timeout: timeout) { _ in true }
        }
        if let exec = probe["exec"] {
            let command = (exec["command"]?.arrayValue ?? []).compactMap(\.stringValue)
            let request = ExecRequest(namespace: worker.namespace, pod: worker.name, container: container,
                                      command: command, stdin: false, tty: false)
            guard let process = try? await worker.node.runtime.exec(request) else { return false }
            [process.stdout, process.stderr].compactMap { $0 }.forEach { close($0) }
            let deadline = ContinuousClock.now + .seconds(timeout)
            let wait = Task { await process.wait() }
            while ContinuousClock.now < deadline {
                if kill(process.pid, 0) != 0 { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
            if ContinuousClock.now >= deadline { kill(-process.pid, SIGKILL); kill(process.pid, SIGKILL) }
            return await wait.value == 0
        }
        return false
    }

    func resolvePort(_ port: JSONValue?) -> Int? {
        if let number = port?.intValue { return number }
        guard let name = port?.stringValue else { return nil }
        if let number = Int(name) { return number }
        return ports.first { $0["name"]?.stringValue == name }?["containerPort"]?.intValue
    }

    /// Connects from the node's namespace and runs `exchange` with a receive timeout.
    func dial(host: String, port: Int, timeout: Int, _ exchange: @escaping @Sendable (Int32) -> Bool) async -> Bool {
        guard let fd = try? await worker.node.dialer.connect(host: host, port: port) else { return false }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return (try? await onNewThread("sandbox-node-probe") { exchange(fd) }) ?? false
    }
}
