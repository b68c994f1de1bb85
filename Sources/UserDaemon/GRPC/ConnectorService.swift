import ClientSupport
import Diagnostics
import Foundation
import GRPCCore
import Logging
import RPC
import SwiftProtobuf

/// The user daemon's API (connector.proto): connect, status, list, log level, quit. The edge
/// where messages become domain values and back; the work is `Connector`'s.
final class ConnectorService: Telepresence_Connector_Connector.SimpleServiceProtocol {
    let connector: Connector
    let logLevel: LogLevelControl
    let logger: Logger
    let onQuit: @Sendable () -> Void

    init(connector: Connector, logLevel: LogLevelControl, logger: Logger, onQuit: @escaping @Sendable () -> Void) {
        self.connector = connector
        self.logLevel = logLevel
        self.logger = logger
        self.onQuit = onQuit
    }

    func version(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Connector_VersionInfo {
        DaemonVersion(name: "User Daemon", version: ProductVersion.current, executable: CommandLine.arguments.first ?? "", pid: getpid())
            .connectorWire
    }

    func connect(request: Telepresence_Connector_ConnectRequest, context: ServerContext) async throws -> Telepresence_Connector_ConnectInfo {
        let connect: ConnectRequest
        do {
            connect = try ConnectRequest(wire: request)
        } catch {
            return ConnectOutcome.failed(ConnectFailure(.clusterConfig, "\(error)")).wire
        }
        return await connector.connect(connect).wire
    }

    func disconnect(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        await connector.disconnect()
        return Google_Protobuf_Empty()
    }

    func status(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Connector_ConnectInfo {
        ConnectionStatusWire.write(await connector.status())
    }

    func list(request: Telepresence_Connector_ListRequest, context: ServerContext) async throws -> Telepresence_Connector_WorkloadInfoSnapshot {
        do {
            // filter_bits wins over the enum (which holds one value); EVERYTHING is every workload.
            let bits = request.filterBits != 0 ? Int(request.filterBits) : request.filter.rawValue
            let filter = bits == ListFilter.everything ? ListFilter() : ListFilter(rawValue: bits)
            return try await connector.list(namespace: request.namespace.isEmpty ? nil : request.namespace, filter: filter).wire
        } catch let error as ConnectorFailure {
            throw RPCError(code: error.code, message: error.description)
        }
    }

    func setLogLevel(request: Telepresence_Connector_LogLevelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        guard let level = LogLevelControl.parse(request.logLevel) else {
            throw RPCError(code: .invalidArgument, message: "log level \(request.logLevel) is unknown; use error, warning, info, debug or trace")
        }
        let local = request.local || !request.remote
        let remote = request.remote || !request.local
        if local {
            logLevel.set(level, for: request.durationSeconds > 0 ? .seconds(request.durationSeconds) : nil)
            logger.info("log level set to \(level)")
        }
        if remote { try await connector.setManagerLogLevel(request.logLevel, seconds: request.durationSeconds) }
        return Google_Protobuf_Empty()
    }

    func quit(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        logger.info("quit requested")
        await connector.disconnect()
        onQuit()
        return Google_Protobuf_Empty()
    }
}

extension ConnectorFailure {
    var code: RPCError.Code {
        switch self {
        case .notConnected: .failedPrecondition
        case .managerFailed: .unavailable
        }
    }
}
