import Foundation
import GRPCNIOTransportHTTP2
import Logging
import NIOCore

/// Admits a connection to a daemon's Unix socket only when the process at the other end runs as
/// one of the allowed users, as the kernel reports it (SO_PEERCRED). The socket's owner and mode
/// already keep other users out; this holds even when the file's permissions are loosened or a
/// descriptor leaks, and it names who was refused in the log.
public struct PeerCredentialGate: Sendable {
    /// The users admitted. Root is always admitted: it can read any user's files anyway.
    public let allowedUIDs: Set<uid_t>
    let logger: Logger

    public init(allowing uid: uid_t, logger: Logger) {
        self.allowedUIDs = [uid, 0]
        self.logger = logger
    }

    /// Whether a peer with these credentials may talk to the daemon.
    public func admits(uid: uid_t) -> Bool {
        allowedUIDs.contains(uid)
    }

    /// The server transport configuration that runs this check on every accepted connection;
    /// a refused connection is closed before a byte of gRPC is read from it.
    public func serverConfig() -> HTTP2ServerTransport.Posix.Config {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.channelDebuggingCallbacks = .init(
            onBindTCPListener: nil,
            onAcceptTCPConnection: { channel in self.check(channel) },
            onAcceptHTTP2Stream: nil
        )
        return config
    }

    func check(_ channel: any Channel) -> EventLoopFuture<Void> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(PeerCredentialError.unknownPeer)
        }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.flatMapThrowing { peer in
            guard self.admits(uid: peer.uid) else {
                self.logger.warning("refused a connection from pid \(peer.pid) running as uid \(peer.uid): only uid \(self.allowedUIDs.sorted()) may use this daemon")
                throw PeerCredentialError.refused(uid: peer.uid)
            }
        }.flatMapErrorThrowing { error in
            // A failed initializer alone leaves the connection open and silent: close it, so
            // the refused client learns at once.
            channel.close(promise: nil)
            throw error
        }
    }
}

/// Linux's `struct ucred` (glibc declares it only under _GNU_SOURCE, so Swift does not see it);
/// the same three 32-bit fields in the same order.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}

public enum PeerCredentialError: Error, CustomStringConvertible {
    case refused(uid: uid_t)
    case unknownPeer

    public var description: String {
        switch self {
        case .refused(let uid):
            "uid \(uid) may not use this daemon: run telepresence as the user who connected"
        case .unknownPeer:
            "the daemon could not learn who connected to its socket, so it refused the connection"
        }
    }
}
