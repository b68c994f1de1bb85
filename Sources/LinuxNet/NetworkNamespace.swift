import CLinuxSupport
import Foundation
import Synchronization

/// Runs code inside a named network namespace (one `ip netns add` made, under /run/netns).
///
/// A thread's network namespace is its own (`setns` changes only the calling thread), and a
/// socket stays in the namespace it was created in whichever thread uses it later. So each call
/// starts a dedicated thread, moves it into the namespace, runs the closure there and lets the
/// thread end: never a Swift concurrency or NIO thread, whose next job would run in the wrong
/// namespace.
public enum NetworkNamespace {
    /// Where `ip netns` keeps the namespaces it names.
    public static let directory = "/run/netns"

    /// Whether the namespace exists.
    public static func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(directory)/\(name)")
    }

    /// Runs `body` on a fresh thread inside namespace `name` and waits for it (blocking the
    /// caller; use ``run(in:_:)-async`` from async code).
    public static func runBlocking<T: Sendable>(
        in name: String, entryError: @escaping @Sendable (NamespaceEntryFailure) -> any Error = { $0 },
        _ body: @escaping @Sendable () throws -> T
    ) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        onThread(enteringNamespaceAt: path(of: name), threadName: "netns \(name)", entryError: entryError, body) { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }

    /// Runs `body` on a fresh thread inside namespace `name`; the awaiting task does not block
    /// a thread meanwhile.
    public static func run<T: Sendable>(
        in name: String, entryError: @escaping @Sendable (NamespaceEntryFailure) -> any Error = { $0 },
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await run(enteringNamespaceAt: path(of: name), threadName: "netns \(name)", entryError: entryError, body)
    }

    /// Runs `body` on a fresh thread inside the namespace whose file is `path` (a pod's, which the
    /// node names by path); the awaiting task does not block a thread meanwhile. Failing to enter
    /// throws what `entryError` makes of it, so each caller speaks its own errors.
    public static func run<T: Sendable>(
        enteringNamespaceAt path: String, threadName: String,
        entryError: @escaping @Sendable (NamespaceEntryFailure) -> any Error, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            onThread(enteringNamespaceAt: path, threadName: threadName, entryError: entryError, body) { continuation.resume(with: $0) }
        }
    }

    /// The one place a thread enters a network namespace. `setns` moves only the calling thread
    /// and a socket belongs to the namespace of the thread that created it, so the thread is
    /// started here, enters, runs `body` (which makes its sockets) and ends: a pooled thread
    /// (Swift concurrency, NIO, Dispatch) would carry the namespace into its next job.
    private static func onThread<T: Sendable>(
        enteringNamespaceAt path: String, threadName: String,
        entryError: @escaping @Sendable (NamespaceEntryFailure) -> any Error, _ body: @escaping @Sendable () throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let thread = Thread {
            do throws(NamespaceEntryFailure) {
                try enter(path)
            } catch {
                completion(.failure(entryError(error)))
                return
            }
            completion(Result { try body() })
        }
        thread.name = threadName
        thread.start()
    }

    /// Moves the calling thread into the namespace whose file is `path`. Only for threads
    /// `onThread` starts.
    private static func enter(_ path: String) throws(NamespaceEntryFailure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NamespaceEntryFailure(path: path, opening: true, errno: errno) }
        defer { close(fd) }
        guard lx_setns(fd, CChar(UInt8(ascii: "n"))) == 0 else {
            throw NamespaceEntryFailure(path: path, opening: false, errno: errno)
        }
    }

    /// The file of namespace `name`.
    public static func path(of name: String) -> String { "\(directory)/\(name)" }

    /// A listening (TCP) or bound (UDP) IPv4 socket on `host:port` inside namespace `name`,
    /// non-blocking and close-on-exec, ready to hand to NIO (`withBoundSocket`) or a thread.
    public static func boundSocket(
        in name: String, host: String, port: Int, udp: Bool = false,
        entryError: @escaping @Sendable (NamespaceEntryFailure) -> any Error = { $0 }
    ) throws -> Int32 {
        try runBlocking(in: name, entryError: entryError) { try makeBoundSocket(host: host, port: port, udp: udp) }
    }

    /// A bound socket in the calling thread's namespace.
    public static func makeBoundSocket(host: String, port: Int, udp: Bool) throws(SocketError) -> Int32 {
        let type = (udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw .system("open a socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw .system("parse the address \(host)", errno: EINVAL)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw .bindFailed(host: host, port: port, errno: code)
        }
        if !udp, listen(fd, 256) != 0 {
            let code = errno
            close(fd)
            throw .system("listen on \(host):\(port)", errno: code)
        }
        return fd
    }
}

/// Why a thread could not enter a network namespace: its file could not be opened (the
/// namespace is gone) or `setns` refused. Each caller may say it in its own words (`entryError`).
public struct NamespaceEntryFailure: Error, CustomStringConvertible {
    /// The namespace's file (`/run/netns/NAME`).
    public let path: String
    /// Whether opening the file failed (else `setns` did).
    public let opening: Bool
    public let errno: Int32

    public var description: String {
        opening
            ? "the network namespace \(path) does not exist (\(String(cString: strerror(errno)))); create it first ('ip netns add')"
            : "cannot enter the network namespace \(path): \(String(cString: strerror(errno))); this needs root (CAP_SYS_ADMIN)"
    }
}
