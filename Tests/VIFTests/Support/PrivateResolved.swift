import Foundation
import Glibc
import TestSupport
import Testing
import VIF

/// A real systemd-resolved for one test, run where it cannot touch the machine: in the test's
/// network namespace and a private mount namespace (tmpfs over /run, an overlay over /etc holding
/// a `systemd-resolve` user and /etc/resolv.conf linked to resolved's stub), with its own system
/// bus (`dbus-daemon` with resolved's policy file). No PID namespace: resolved asks the bus for
/// its callers' PIDs and aborts on a caller the namespace cannot name (PID 0).
///
/// The binaries come from the systemd-resolved package unpacked (not installed) by
/// `scripts/test` (`fetch_deb systemd-resolved` in scripts/lib.sh) under `.build-deps`.
///
/// The holder script kills the bus and resolved and ends when its standard input closes:
/// `stop()` closes it, and so does the test process ending in any way. `stop()` then kills by PID
/// whatever is still in the test's network namespace. The mounts go with the mount namespace.
final class PrivateResolved: Sendable {
    /// The unpacked package.
    static let root: String = ProcessInfo.processInfo.environment["TELEPRESENCE_RESOLVED_ROOT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build-deps/systemd-resolved").path

    let namespace: NetworkNamespace
    let holder: ProcessRunner.Background
    let folder: URL

    /// The holder's PID on the host (its mount namespace is the private one).
    var pid: Int32 { holder.pid }
    /// The private system bus, reachable from the host through the holder's root.
    var busAddress: String { "unix:path=/proc/\(pid)/root/run/dbus/system_bus_socket" }
    /// A path inside the private mount namespace, seen from the host.
    func path(_ inside: String) -> String { "/proc/\(pid)/root\(inside)" }

    init(in namespace: NetworkNamespace) throws {
        self.namespace = namespace
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tp-resolved-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let busConfig = folder.appendingPathComponent("bus.conf")
        try Self.busConfig(policy: "\(Self.root)/usr/share/dbus-1/system.d/org.freedesktop.resolve1.conf").write(to: busConfig, atomically: true, encoding: .utf8)
        let script = folder.appendingPathComponent("holder.sh")
        try Self.holderScript(busConfig: busConfig.path).write(to: script, atomically: true, encoding: .utf8)
        holder = try ProcessRunner.start(
            ["/usr/sbin/ip", "netns", "exec", namespace.name, "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", script.path],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "RESOLVED_ROOT": Self.root, "LOG": folder.path],
            inheritEnvironment: false, keepStandardInputOpen: true)
    }

    /// Waits until resolved owns its bus name.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws {
        do {
            try await waitUntil("systemd-resolved to own its bus name", timeout: timeout, pollingEvery: .milliseconds(50)) {
                guard holder.isRunning else { throw NamespaceError("the private resolved's holder ended early: \(logs())") }
                return await ResolvedSplitDNS.isRunning(systemBusAddress: busAddress)
            }
        } catch let timedOut as WaitTimedOut {
            throw NamespaceError("\(timedOut): \(logs())")
        }
    }

    func logs() -> String {
        ["setup.log", "bus.log", "resolved.log"].map { name in
            let text = (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return "\(name): \(text.suffix(1500))"
        }.joined(separator: "\n")
    }

    /// `resolvectl ARGS` on the private bus, in the namespace (it names links by their index
    /// there).
    func resolvectl(_ arguments: [String]) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(["nsenter", "--net=/run/netns/\(namespace.name)", "\(Self.root)/usr/bin/resolvectl"] + arguments,
                                    environment: ["DBUS_SYSTEM_BUS_ADDRESS": busAddress], timeout: .seconds(20))
    }

    /// A command inside both namespaces (for the glibc resolver: it reads the private
    /// /etc/resolv.conf and reaches the stub on the namespace's 127.0.0.53).
    func inside(_ arguments: [String]) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(["nsenter", "--net=/run/netns/\(namespace.name)", "--mount=/proc/\(pid)/ns/mnt"] + arguments,
                                    timeout: .seconds(20))
    }

    /// Ends the holder (it kills what it started), then kills by PID anything still in the
    /// namespace, and waits for all of it (with deadlines).
    func stop() async {
        holder.closeStandardInput()
        try? await waitUntil("the resolved holder to end when its input closed", timeout: .seconds(5), pollingEvery: .milliseconds(20)) {
            !holder.isRunning
        }
        try? await waitUntil("every process in \(namespace.name) to end on SIGKILL", timeout: .seconds(5), pollingEvery: .milliseconds(20)) {
            let pids = ((try? runCommand("/usr/sbin/ip", ["netns", "pids", namespace.name])) ?? "").split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
            if pids.isEmpty && !holder.isRunning { return true }
            for pid in pids { kill(pid, SIGKILL) }
            if holder.isRunning { kill(self.pid, SIGKILL) }
            return false
        }
        try? FileManager.default.removeItem(at: folder)
    }

    static func busConfig(policy: String) -> String {
        """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>system</type>
          <listen>unix:path=/run/dbus/system_bus_socket</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/>
            <deny own="*"/>
            <deny send_type="method_call"/>
            <allow send_destination="org.freedesktop.DBus"/>
            <allow send_type="signal"/>
            <allow send_requested_reply="true"/>
            <allow receive_requested_reply="true"/>
          </policy>
          <include>\(policy)</include>
        </busconfig>
        """
    }

    /// Sets the mounts up, starts the bus and resolved, then waits for its standard input to
    /// close (the test's end, or the test process's) and kills both.
    static func holderScript(busConfig: String) -> String {
        """
        exec 2>"$LOG/setup.log"
        set -e
        mount -t tmpfs tmpfs /run
        mkdir -p /run/dbus /run/systemd /run/tp/etc /run/tp/work
        mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/tp/etc,workdir=/run/tp/work /etc
        echo 'systemd-resolve:x:991:991::/:/usr/sbin/nologin' >> /etc/passwd
        echo 'systemd-resolve:x:991:' >> /etc/group
        rm -f /etc/resolv.conf
        ln -s /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
        mkdir -p /etc/systemd
        rm -f /etc/systemd/resolved.conf
        dbus-daemon --nofork --config-file=\(busConfig) >"$LOG/bus.log" 2>&1 &
        BUS=$!
        trap 'kill -9 $BUS $RESOLVED 2>/dev/null; exit 0' EXIT
        while [ ! -S /run/dbus/system_bus_socket ]; do sleep 0.02; done
        SYSTEMD_LOG_LEVEL=debug "$RESOLVED_ROOT/lib/systemd/systemd-resolved" >"$LOG/resolved.log" 2>&1 &
        RESOLVED=$!
        read -r _ || true
        """
    }
}

extension HostRequirement {
    /// The split-DNS tests' own systemd-resolved: unpacked by scripts/test, with the bus and
    /// namespace tools beside it. Skipped without them, failing under CI=true.
    static let privateResolved = HostRequirement("systemd-resolved unpacked under .build-deps, dbus-daemon, busctl, unshare and nsenter") {
        if access("\(PrivateResolved.root)/lib/systemd/systemd-resolved", X_OK) != 0 {
            return "systemd-resolved is not unpacked at \(PrivateResolved.root); run scripts/test (it calls fetch_deb systemd-resolved)"
        }
        for tool in ["/usr/bin/dbus-daemon", "/usr/bin/busctl", "/usr/bin/unshare", "/usr/bin/nsenter"] where access(tool, X_OK) != 0 {
            return "\(tool) is missing (packages dbus-daemon, systemd, util-linux)"
        }
        return nil
    }
}
