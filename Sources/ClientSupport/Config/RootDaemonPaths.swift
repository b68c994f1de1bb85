import Foundation

/// Where the root daemon keeps its socket and its state: the user's runtime folder (0700, so
/// only that user and root can reach the socket), not a system-wide path, because the daemon
/// is started per user with sudo.
public struct RootDaemonPaths: Sendable {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    public init(_ paths: ClientPaths) { directory = paths.runtimeDirectory }

    public var socket: URL { directory.appendingPathComponent("daemon.socket") }
    public var resolvConfBackup: URL { directory.appendingPathComponent("resolv.conf.orig") }
    public var log: URL { directory.appendingPathComponent("daemon.log") }
}
