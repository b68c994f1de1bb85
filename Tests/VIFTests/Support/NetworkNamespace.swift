import Foundation
import Glibc
import TestSupport
import Testing

/// A network namespace made for one test (`ip netns add`), deleted by ``delete()``. Work that
/// must happen inside it (opening the TUN, creating sockets) runs on a fresh thread that
/// entered it with setns; descriptors made there stay bound to the namespace afterwards.
final class NetworkNamespace: Sendable {
    let name: String
    private static let counter = LockedBox(0)

    init() throws {
        let n = Self.counter.withLock { c -> Int in c += 1; return c }
        name = "tpns-\(getpid())-\(n)-\(UInt16.random(in: 0...UInt16.max))"
        try runCommand("/usr/sbin/ip", ["netns", "add", name])
        try runCommand("/usr/sbin/ip", ["-n", name, "link", "set", "lo", "up"])
    }

    func delete() {
        _ = try? runCommand("/usr/sbin/ip", ["netns", "delete", name])
    }

    /// Runs `body` on a new thread inside the namespace and waits for it.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = LockedBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let path = "/run/netns/\(name)"
        let thread = Thread {
            let r = Result { () throws -> T in
                try Self.enter(path)
                return try body()
            }
            result.withLock { $0 = r }
            done.signal()
        }
        thread.start()
        done.wait()
        return try result.value!.get()
    }

    /// Runs `command` in the namespace and returns its standard output.
    @discardableResult
    func exec(_ arguments: [String]) throws -> String {
        try runCommand("/usr/sbin/ip", ["netns", "exec", name] + arguments)
    }

    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32

    /// setns(2) is not imported into Swift (it needs _GNU_SOURCE), so it is looked up.
    private static func enter(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NamespaceError("open \(path)", errno) }
        defer { close(fd) }
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "setns") else { throw NamespaceError("find setns", 0) }
        let setns = unsafeBitCast(symbol, to: SetNS.self)
        guard setns(fd, 0x4000_0000 /* CLONE_NEWNET */) == 0 else { throw NamespaceError("setns \(path)", errno) }
    }
}

struct NamespaceError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String, _ e: Int32) { description = "\(what) failed: \(String(cString: strerror(e)))" }
    init(_ what: String) { description = what }
}

/// Runs `executable` (on ProcessRunner, blocking the calling thread: namespace work runs on
/// threads of its own) and returns its standard output; a failure throws with its stderr.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String]) throws -> String {
    let output = try ProcessRunner.runBlocking([executable] + arguments)
    guard output.status == 0 else {
        throw NamespaceError("\(executable) \(arguments.joined(separator: " ")): \(output.stderr)")
    }
    return output.stdout
}

extension HostRequirement {
    /// What the kernel-peer tests need: root, /dev/net/tun, iproute2 and a network namespace
    /// made and deleted (`ip netns add`). Skipped without them, failing under CI=true.
    static let kernelNetwork = HostRequirement("root, /dev/net/tun and ip netns") {
        if getuid() != 0 { return "not running as root" }
        if access("/dev/net/tun", R_OK | W_OK) != 0 { return "/dev/net/tun is not accessible" }
        if access("/usr/sbin/ip", X_OK) != 0 { return "the ip command (iproute2) is missing" }
        do {
            let ns = try NetworkNamespace()
            ns.delete()
        } catch {
            return "cannot create a network namespace: \(error)"
        }
        return nil
    }
}
