import Foundation
import GRPCCore
import Logging
import NIOCore
import RPC
import SwiftProtobuf

/// The root daemon's gRPC API: one network session at a time.
final class DaemonService: Telepresence_Daemon_Daemon.SimpleServiceProtocol {
    let sessions: SessionHolder
    let onQuit: @Sendable () -> Void

    init(sessions: SessionHolder, onQuit: @escaping @Sendable () -> Void) {
        self.sessions = sessions
        self.onQuit = onQuit
    }

    func version(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Daemon_VersionInfo {
        var info = Telepresence_Daemon_VersionInfo()
        info.name = "Root Daemon"
        info.version = ProductVersion.current
        info.pid = getpid()
        return info
    }

    func connect(request: Telepresence_Daemon_OutboundInfo, context: ServerContext) async throws -> Telepresence_Daemon_NetworkStatus {
        do {
            return try await sessions.connect(request)
        } catch {
            throw RPCError(code: .failedPrecondition, message: "\(error)")
        }
    }

    func disconnect(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Daemon_NetworkStatus {
        await sessions.disconnect()
        var status = Telepresence_Daemon_NetworkStatus()
        status.state = "disconnected"
        return status
    }

    func status(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Daemon_NetworkStatus {
        await sessions.status()
    }

    func quit(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        await sessions.disconnect()
        onQuit()
        return Google_Protobuf_Empty()
    }
}

/// The current session, replaced one at a time.
actor SessionHolder {
    private var session: NetworkSession?
    let paths: RootDaemonPaths
    let group: any EventLoopGroup
    let logger: Logger

    init(paths: RootDaemonPaths, group: any EventLoopGroup, logger: Logger) {
        self.paths = paths
        self.group = group
        self.logger = logger
    }

    func connect(_ info: Telepresence_Daemon_OutboundInfo) async throws -> Telepresence_Daemon_NetworkStatus {
        if let session {
            // The same outbound configuration again (a second `connect`): nothing to redo.
            if session.info == info { return await session.status() }
            // New subnets or namespaces from the cluster: changed in place, connections live on.
            if session.canUpdate(to: info) {
                try await session.update(to: info, logger: logger)
                return await session.status()
            }
            await session.stop()
            self.session = nil
        }
        let started = try await NetworkSession.start(info, paths: paths, group: group, logger: logger)
        session = started
        return await started.status()
    }

    func disconnect() async {
        guard let session else { return }
        await session.stop()
        self.session = nil
        logger.info("disconnected the workstation's network")
    }

    func status() async -> Telepresence_Daemon_NetworkStatus {
        guard let session else {
            var status = Telepresence_Daemon_NetworkStatus()
            status.state = "disconnected"
            return status
        }
        return await session.status()
    }
}
