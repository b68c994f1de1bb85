import DNS
import NIOCore
import Tunnel

/// Looks names up in the cluster by asking the cluster's own DNS server (kube-dns) through the
/// tunnel, so the answers are exactly what a pod gets: one UDP stream per lookup (one round trip
/// to the cluster), with EDNS so that most answers fit, and a TCP stream when the answer comes
/// back truncated. Each attempt has a deadline; the answer cache above gives up on a lookup
/// after its own deadline anyway, so no lookup stalls a client for seconds.
public final class TunnelDNSLookup: ClusterLookup, Sendable {
    public let eventLoop: any EventLoop
    /// The cluster DNS server (the kube-dns service's address, port 53).
    public let server: TunnelEndpoint
    private let multiplexer: @Sendable () -> TunnelMultiplexer?
    private let attemptTimeout: TimeAmount

    /// `multiplexer` is called on `eventLoop` for every lookup: the tunnel currently up, if any
    /// (its event loop must be `eventLoop`).
    public init(
        server: TunnelEndpoint, eventLoop: any EventLoop, attemptTimeout: TimeAmount = .milliseconds(1500),
        multiplexer: @escaping @Sendable () -> TunnelMultiplexer?
    ) {
        self.server = server
        self.eventLoop = eventLoop
        self.attemptTimeout = attemptTimeout
        self.multiplexer = multiplexer
    }

    public func lookup(name: DNSName, type: DNSRecordType) async throws -> ClusterAnswer {
        var query = DNSMessage(header: DNSHeader(id: UInt16.random(in: 0...UInt16.max)),
                               questions: [DNSQuestion(name: name, type: type)])
        query.additionals = [EDNS(udpPayloadSize: 4096).record]
        let bytes = try query.serialized()
        var response = try await exchange(bytes, transport: .udp)
        if response.header.isTruncated {
            response = try await exchange(bytes, transport: .tcp)
        }
        guard response.header.id == query.header.id, response.header.isResponse else {
            throw TunnelDNSLookupError.mismatchedAnswer(server: server.description)
        }
        switch DNSResponseCode(rawValue: response.header.rcode) {
        case .noError: return .records(response.answers)
        case .nameError: return .nameError
        default: throw TunnelDNSLookupError.serverFailed(server: server.description, rcode: response.header.rcode)
        }
    }

    private func exchange(_ query: [UInt8], transport: TunnelFlow.Transport) async throws -> DNSMessage {
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let server = server
        let timeout = attemptTimeout
        let multiplexer = multiplexer
        eventLoop.execute {
            guard let mux = multiplexer() else {
                promise.fail(TunnelDNSLookupError.noTunnel)
                return
            }
            let exchange = DNSExchange(promise: promise, framed: transport == .tcp)
            var initial = ByteBuffer()
            if transport == .tcp { initial.writeInteger(UInt16(query.count)) }
            initial.writeBytes(query)
            let source = TunnelEndpoint.unspecified(server.address.family)
            do {
                let stream = try mux.openStream(
                    flow: TunnelFlow(transport: transport, source: source, destination: server),
                    initialData: initial, fin: false, delegate: exchange)
                exchange.stream = stream
                let bound = NIOLoopBound(exchange, eventLoop: mux.eventLoop)
                let timer = mux.eventLoop.scheduleTask(in: timeout) {
                    bound.value.fail(TunnelDNSLookupError.timeout(server: server.description))
                }
                promise.futureResult.whenComplete { _ in timer.cancel() }
            } catch {
                promise.fail(TunnelDNSLookupError.noTunnel)
            }
        }
        let bytes = try await promise.futureResult.get()
        return try DNSMessage(bytes: bytes)
    }
}

/// One query's stream: completes the promise with the first whole answer, then resets the
/// stream (a DNS exchange is one question and one answer).
private final class DNSExchange: TunnelStreamDelegate {
    let promise: EventLoopPromise<[UInt8]>
    let framed: Bool
    var stream: TunnelStream?
    private var received = ByteBuffer()
    private var done = false

    init(promise: EventLoopPromise<[UInt8]>, framed: Bool) {
        self.promise = promise
        self.framed = framed
    }

    func succeed(_ bytes: [UInt8]) {
        guard !done else { return }
        done = true
        promise.succeed(bytes)
        stream?.reset(.cancelled)
    }

    func fail(_ error: any Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
        stream?.reset(.cancelled)
    }

    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {
        guard framed else { return succeed(Array(bytes.readableBytesView)) }
        var bytes = bytes
        received.writeBuffer(&bytes)
        guard let length = received.getInteger(at: received.readerIndex, as: UInt16.self),
              received.readableBytes >= 2 + Int(length) else { return }
        succeed(Array(received.readableBytesView.dropFirst(2).prefix(Int(length))))
    }

    func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {
        fail(TunnelDNSLookupError.unreachable(reason: "\(reason)"))
    }

    func tunnelStream(_ stream: TunnelStream, didReset reason: TunnelResetReason) {
        fail(TunnelDNSLookupError.unreachable(reason: "\(reason)"))
    }

    func tunnelStreamDidClose(_ stream: TunnelStream) {
        fail(TunnelDNSLookupError.unreachable(reason: "the stream closed"))
    }
}

public enum TunnelDNSLookupError: Error, Equatable, Sendable, CustomStringConvertible {
    case noTunnel
    case timeout(server: String)
    case unreachable(reason: String)
    case mismatchedAnswer(server: String)
    case serverFailed(server: String, rcode: UInt8)

    public var description: String {
        switch self {
        case .noTunnel: "no tunnel to the cluster is up; run 'telepresence connect' (or wait for it to reconnect)"
        case .timeout(let server): "the cluster DNS server \(server) did not answer in time"
        case .unreachable(let reason): "the cluster DNS server could not be reached through the tunnel (\(reason))"
        case .mismatchedAnswer(let server): "the cluster DNS server \(server) answered a different question"
        case .serverFailed(let server, let rcode): "the cluster DNS server \(server) failed the lookup (rcode \(rcode))"
        }
    }
}
