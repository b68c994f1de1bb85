import CLinuxSupport
import Foundation
import SandboxAPIServer
import SandboxNetwork

/// The container side of the process node: run as `sandbox-cluster container-exec SPEC` (a
/// child of the node), it enters the pod's network namespace, makes a private mount and UTS
/// namespace with the pod's volumes, resolv.conf and hosts bound in, and execs the container's
/// command. An exec (`joinPID`) enters a running container's namespaces instead.
///
/// Everything happens on the calling thread, which then execs: namespaces are per thread, and
/// execve keeps the calling thread's.
public enum ContainerLauncher {
    /// Loads the spec at `path`, sets the container up and execs; returns only to report why
    /// that failed (the caller prints it and exits with 127, as a shell does).
    public static func run(specPath: String) -> String {
        var status: Int32?
        let message: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: specPath))
            let spec = try JSONDecoder().decode(LaunchSpec.self, from: data)
            status = spec.statusDescriptor
            try launch(spec)
            message = "exec returned"
        } catch let error as LaunchError {
            message = error.description
        } catch {
            message = "cannot read the launch spec \(specPath): \(error)"
        }
        if let status {
            _ = message.utf8CString.withUnsafeBufferPointer { write(status, $0.baseAddress, $0.count - 1) }
        }
        return message
    }

    static func launch(_ spec: LaunchSpec) throws(LaunchError) {
        // The node kills us (and the container) by dying; a node already gone would never.
        _ = lx_set_parent_death_signal(SIGKILL)
        if getppid() != spec.parentPID { throw .failed("the node (pid \(spec.parentPID)) is gone") }
        closeInheritedDescriptors()
        var pinnedExecutable: Int32?
        if let pid = spec.joinPID {
            try join(pid: pid)
        } else {
            // An image's executable lives on the host (the build folder); a volume mounted over
            // one of its parents (the agent's emptyDir at /tmp, a checkout under /tmp) would hide
            // it, so it is pinned first and run through its descriptor when hidden.
            if let first = spec.arguments.first, first.hasPrefix("/") {
                let fd = open(first, openPath | O_CLOEXEC)
                if fd >= 0 { pinnedExecutable = fd }
            }
            try enter(spec)
        }
        let directory = spec.workingDirectory.isEmpty ? "/" : spec.workingDirectory
        guard chdir(directory) == 0 else { throw .system("chdir to the working directory \(directory)", errno) }
        // Its own session and process group, so the node can signal the container's whole tree.
        if spec.controllingTerminal {
            _ = setsid()
            _ = lx_set_controlling_terminal(0)
        } else if getsid(0) != getpid() {
            _ = setsid()
        }
        resetSignals()
        try exec(spec, pinnedExecutable: pinnedExecutable)
    }

    /// The launcher may run on a runtime thread that blocks signals, and exec keeps the mask
    /// and ignored signals: the container must start with neither, or SIGTERM would not reach it.
    static func resetSignals() {
        for number in Int32(1)..<65 where number != SIGKILL && number != SIGSTOP {
            signal(number, SIG_DFL)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, nil)
    }

    /// Linux's O_PATH (not exported by Glibc's Swift overlay): a descriptor that only names a file.
    static let openPath: Int32 = 0o10000000

    /// A new container: the pod's network, its own mounts and hostname.
    static func enter(_ spec: LaunchSpec) throws(LaunchError) {
        if let path = spec.networkNamespace {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .system("open the pod's network namespace \(path)", errno) }
            guard lx_setns(fd, CChar(UInt8(ascii: "n"))) == 0 else { throw .system("enter the pod's network namespace", errno) }
            close(fd)
        }
        guard lx_unshare_mount_uts() == 0 else { throw .system("make a mount namespace", errno) }
        _ = spec.hostname.withCString { sethostname($0, strlen($0)) }
        // Nothing mounted here may propagate back to the host.
        guard mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else { throw .system("make / private", errno) }
        var shadows = MountShadows(scratch: spec.scratchDirectory)
        // Every source is pinned by a descriptor before anything is mounted: a volume mounted
        // over a parent of the node's state directory (an emptyDir at /tmp while the state is
        // under /tmp) would otherwise hide the sources bound after it.
        var pinned: [Int32] = []
        defer { for fd in pinned { close(fd) } }
        var mounts = spec.mounts
        for index in mounts.indices {
            let fd = open(mounts[index].source, Self.openPath | O_CLOEXEC)
            guard fd >= 0 else { throw .system("find the volume \(mounts[index].source)", errno) }
            pinned.append(fd)
            mounts[index].source = "/proc/self/fd/\(fd)"
        }
        if mounts.contains(where: { MountShadows.needsNewRoot($0.target) }) { try shadows.shadowRoot() }
        for entry in mounts {
            try shadows.bind(entry)
        }
    }

    /// An exec: the running container's namespaces.
    static func join(pid: Int32) throws(LaunchError) {
        guard lx_unshare_fs() == 0 else { throw .system("unshare the filesystem attributes", errno) }
        let kinds: [(String, CChar)] = [("net", CChar(UInt8(ascii: "n"))), ("uts", CChar(UInt8(ascii: "u"))), ("mnt", CChar(UInt8(ascii: "m")))]
        for (name, kind) in kinds {
            let fd = open("/proc/\(pid)/ns/\(name)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .failed("the container (pid \(pid)) is not running") }
            defer { close(fd) }
            guard lx_setns(fd, kind) == 0 else {
                throw .system("enter the container's \(name) namespace", errno)
            }
        }
    }

    static func exec(_ spec: LaunchSpec, pinnedExecutable: Int32? = nil) throws(LaunchError) {
        guard let first = spec.arguments.first, !first.isEmpty else { throw .failed("the container has no command") }
        var path = try resolve(first, environment: spec.environment)
        if access(path, X_OK) != 0, let pinned = pinnedExecutable { path = "/proc/self/fd/\(pinned)" }
        let argv = spec.arguments.map { strdup($0) } + [nil]
        let envp = spec.environment.map { strdup($0) } + [nil]
        execve(path, argv, envp)
        throw .system("exec \(path)", errno)
    }

    /// `command` looked up in the container's PATH, as execvp would.
    static func resolve(_ command: String, environment: [String]) throws(LaunchError) -> String {
        if command.contains("/") { return command }
        let path = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw .notFound(command)
    }

    /// The node's descriptors other than stdio must not leak into the container: they close
    /// on exec (closing them now could pull descriptors from under this process's runtime).
    static func closeInheritedDescriptors() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let fd = Int32(entry), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0, flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}

/// Why a container could not be started; printed on the container's stderr (its log).
enum LaunchError: Error, CustomStringConvertible {
    case system(String, Int32)
    case notFound(String)
    case failed(String)

    var description: String {
        switch self {
        case .system(let what, let code): "container-exec: cannot \(what): \(String(cString: strerror(code)))"
        case .notFound(let command): "exec: \"\(command)\": executable file not found in $PATH"
        case .failed(let message): "container-exec: \(message)"
        }
    }
}
