import Logging
import NIOCore
import NIOPosix
import Synchronization
import Tunnel

/// The root daemon's tunnel to the traffic-manager: a multiplexer on a connection to the user
/// daemon's relay socket (which the user daemon carries over a port-forward). When it drops it
/// is dialed again with backoff (100 ms doubling to 2 s); meanwhile new connections are reset
/// at once and existing ones end, which is what a dropped cluster link means.
final class TunnelLink: Sendable {
    let eventLoop: any EventLoop
    private let socketPath: String
    private let logger: Logger
    private let onChange: @Sendable (TunnelMultiplexer?) -> Void
    private let state = Mutex(State())

    struct State {
        var channel: (any Channel)?
        var stopped = false
        var reconnects = 0
        var up = false
    }

    /// `onChange` runs on `eventLoop` with the new multiplexer (nil while down).
    init(socketPath: String, eventLoop: any EventLoop, logger: Logger, onChange: @escaping @Sendable (TunnelMultiplexer?) -> Void) {
        self.socketPath = socketPath
        self.eventLoop = eventLoop
        self.logger = logger
        self.onChange = onChange
    }

    var isUp: Bool { state.withLock { $0.up } }
    var reconnects: Int { state.withLock { $0.reconnects } }

    /// Dials once and reports whether the tunnel came up (the caller decides whether that is
    /// fatal); either way it keeps reconnecting in the background until `stop()`.
    func start() async -> Bool {
        await dial(attempt: 0)
    }

    func stop() {
        let channel = state.withLock { state -> (any Channel)? in
            state.stopped = true
            return state.channel
        }
        channel?.close(promise: nil)
    }

    @discardableResult
    private func dial(attempt: Int) async -> Bool {
        guard !state.withLock({ $0.stopped }) else { return false }
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .channelOption(.recvAllocator, value: TunnelConfiguration.socketReceiveAllocator)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TunnelMultiplexer(role: .initiator))
                    }
                }
                .connect(unixDomainSocketPath: socketPath).get()
            let multiplexer = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: TunnelMultiplexer.self), eventLoop: channel.eventLoop)
            }.get()
            let accepted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.channel = channel
                state.up = true
                return true
            }
            guard accepted else {
                try? await channel.close()
                return false
            }
            let onChange = onChange
            try await channel.eventLoop.submit { onChange(multiplexer.value) }.get()
            logger.info("tunnel to the traffic-manager up (via \(socketPath))")
            channel.closeFuture.whenComplete { [self] _ in
                state.withLock { $0.up = false; $0.channel = nil }
                onChange(nil)
                logger.warning("tunnel to the traffic-manager lost; reconnecting")
                Task { await self.retry(from: 1) }
            }
            return true
        } catch {
            logger.debug("tunnel dial failed: \(error)")
            Task { await self.retry(from: attempt + 1) }
            return false
        }
    }

    private func retry(from attempt: Int) async {
        guard !state.withLock({ $0.stopped }) else { return }
        let delay = min(2000, 100 << min(attempt - 1, 5))
        try? await Task.sleep(for: .milliseconds(delay))
        if await dial(attempt: attempt) {
            state.withLock { $0.reconnects += 1 }
        }
    }
}
