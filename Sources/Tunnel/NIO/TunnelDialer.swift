import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cluster side of the tunnel: for each OPEN it dials the destination on the
/// multiplexer's event loop and answers OPEN_OK (then relays both ways through a
/// `TunnelSocketBridge`) or OPEN_FAILED with the reason, so the workstation's socket gets its
/// RST without waiting. Use `handle` as the multiplexer's inbound stream handler.
public struct TunnelDialer: Sendable {
    /// Dial timeout when the OPEN does not carry one.
    public var defaultTimeout: TimeAmount
    /// Decides which destinations may be dialed; a refused flow gets OPEN_FAILED(prohibited).
    public var isAllowed: @Sendable (TunnelFlow) -> Bool

    public init(defaultTimeout: TimeAmount = .seconds(10), isAllowed: @escaping @Sendable (TunnelFlow) -> Bool = { _ in true }) {
        self.defaultTimeout = defaultTimeout
        self.isAllowed = isAllowed
    }

    /// Dials for one peer-opened stream (call on the multiplexer's event loop).
    public func handle(_ stream: TunnelStream, _ open: TunnelOpen) {
        guard isAllowed(open.flow) else {
            stream.reject(.prohibited, message: "\(open.flow.destination) may not be dialed")
            return
        }
        let loop = stream.eventLoop
        let address: SocketAddress
        do {
            address = try open.flow.destination.socketAddress()
        } catch {
            stream.reject(.unreachable, message: "\(open.flow.destination) is not an address")
            return
        }
        let timeout = open.dialTimeoutMilliseconds > 0 ? .milliseconds(Int64(open.dialTimeoutMilliseconds)) : defaultTimeout
        switch open.flow.transport {
        case .tcp:
            let bound = NIOLoopBound(stream, eventLoop: loop)
            ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.recvAllocator, value: TunnelConfiguration.socketReceiveAllocator)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TunnelSocketBridge(mode: .dialed(bound.value)))
                    }
                }
                .connect(to: address)
                .whenFailure { error in
                    let (reason, message) = Self.classify(error)
                    bound.value.reject(reason, message: "\(open.flow.destination): \(message)")
                }
        case .udp:
            TunnelDatagramBridge.dial(stream, to: address)
        }
    }

    /// Maps a connect error to the reason the workstation sees.
    static func classify(_ error: any Error) -> (TunnelOpenFailure, String) {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return (.refused, "connection refused")
            case EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL: return (.unreachable, "unreachable")
            case ETIMEDOUT: return (.timeout, "timed out")
            default: return (.internalError, "\(io)")
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return (.timeout, "timed out") }
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return classify(first.error)
        }
        return (.internalError, "\(error)")
    }
}
