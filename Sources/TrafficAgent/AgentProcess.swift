import Logging
import NIOCore
import NIOPosix

/// The running agent: its sockets (`AgentDataPlane`) on one event loop, and its session with
/// the manager (`AgentSession`). `run` returns when cancelled, after departing.
public enum AgentProcess {
    /// Listens, then keeps the session until the task is cancelled (SIGTERM/SIGINT in
    /// `traffic agent`); departs and closes its listeners before returning.
    public static func run(
        settings: AgentSettings, timing: AgentSession.Timing = AgentSession.Timing(),
        claimWait: TimeAmount = .seconds(5), logger: Logger
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let plane = try await AgentDataPlane.start(config: settings.config, loop: group.next(), claimWait: claimWait, logger: logger)
        logger.info("traffic-agent \(settings.config.agentName) listening (tunnel port \(plane.tunnelPort))")
        let session: AgentSession
        do {
            session = try AgentSession(settings: settings, plane: plane, timing: timing, logger: logger)
        } catch {
            await plane.close()
            throw error
        }
        await session.run()
        await plane.close()
    }
}
