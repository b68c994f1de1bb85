import ClientSupport
import Diagnostics
import Foundation
import GRPCCore
import RPC
import SwiftProtobuf

/// The root daemon's gRPC API (daemon.proto): the edge where messages become domain values and
/// back; the work is `NetworkSessions`'.
final class DaemonService: Telepresence_Daemon_Daemon.SimpleServiceProtocol {
    let sessions: NetworkSessions
    let onQuit: @Sendable () -> Void

    init(sessions: NetworkSessions, onQuit: @escaping @Sendable () -> Void) {
        self.sessions = sessions
        self.onQuit = onQuit
    }

    func version(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Daemon_VersionInfo {
        DaemonVersion(name: "Root Daemon", version: ProductVersion.current, pid: getpid()).wire
    }

    func connect(request: Telepresence_Daemon_OutboundInfo, context: ServerContext) async throws -> Telepresence_Daemon_NetworkStatus {
        do {
            return try await sessions.connect(try NetworkRequest(wire: request)).wire
        } catch {
            throw RPCError(code: .failedPrecondition, message: "\(error)")
        }
    }

    func disconnect(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Daemon_NetworkStatus {
        await sessions.disconnect()
        return NetworkStatus.disconnected.wire
    }

    func status(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Daemon_NetworkStatus {
        await sessions.status().wire
    }

    func quit(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        await sessions.disconnect()
        onQuit()
        return Google_Protobuf_Empty()
    }
}
