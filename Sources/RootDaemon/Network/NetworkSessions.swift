import ClientSupport
import Logging
import NIOCore

/// The root daemon's core: the current network session, replaced one at a time.
actor NetworkSessions {
    private var session: NetworkSession?
    let paths: RootDaemonPaths
    let group: any EventLoopGroup
    let logger: Logger

    init(paths: RootDaemonPaths, group: any EventLoopGroup, logger: Logger) {
        self.paths = paths
        self.group = group
        self.logger = logger
    }

    func connect(_ request: NetworkRequest) async throws -> NetworkStatus {
        if let session {
            // The same request again (a second `connect`): nothing to redo.
            if session.request == request { return await session.status() }
            // New subnets or namespaces from the cluster: changed in place, connections live on.
            if session.canUpdate(to: request) {
                try await session.update(to: request, logger: logger)
                return await session.status()
            }
            await session.stop()
            self.session = nil
        }
        let started = try await NetworkSession.start(request, paths: paths, group: group, logger: logger)
        session = started
        return await started.status()
    }

    func disconnect() async {
        guard let session else { return }
        await session.stop()
        self.session = nil
        logger.info("disconnected the workstation's network")
    }

    func status() async -> NetworkStatus {
        await session?.status() ?? .disconnected
    }
}
