@testable import NetStack

/// Events with their bytes copied, so tests can look at them after the callback.
enum RecordedEvent: Equatable {
    case connectionRequested(FlowID)
    case established(FlowID)
    case received(FlowID, [UInt8])
    case writable(FlowID)
    case peerClosed(FlowID)
    case reset(FlowID)
    case closed(FlowID)
    case datagram(FlowID, [UInt8])
    case flowExpired(FlowID)
}

/// A NetStack whose emitted packets and events are collected.
final class StackRecorder {
    let stack: NetStack
    var packets: [[UInt8]] = []
    var events: [RecordedEvent] = []
    var autoAccept = true
    var now: UInt64 = 1_000_000_000

    init(configure: (inout NetStackConfiguration) -> Void = { _ in }) {
        var c = NetStackConfiguration()
        c.mtu = 1500
        configure(&c)
        stack = NetStack(configuration: c, now: now)
        stack.onPacket = { [unowned self] in packets.append(Array($0)) }
        stack.onEvent = { [unowned self] event in
            switch event {
            case .connectionRequested(let id):
                events.append(.connectionRequested(id))
                if autoAccept { stack.accept(id) }
            case .established(let id): events.append(.established(id))
            case .received(let id, let b): events.append(.received(id, Array(b)))
            case .writable(let id): events.append(.writable(id))
            case .peerClosed(let id): events.append(.peerClosed(id))
            case .reset(let id): events.append(.reset(id))
            case .closed(let id): events.append(.closed(id))
            case .datagram(let id, let b): events.append(.datagram(id, Array(b)))
            case .flowExpired(let id): events.append(.flowExpired(id))
            }
        }
    }

    func input(_ packet: [UInt8]) { stack.input(packet, now: now) }

    /// Emitted TCP segments, parsed; clears the list.
    func takeSegments() -> [PacketFactory.Segment] {
        defer { packets.removeAll() }
        return packets.compactMap(PacketFactory.readTCP)
    }

    func takeEvents() -> [RecordedEvent] {
        defer { events.removeAll() }
        return events
    }

    var flow: FlowID {
        FlowID(.tcp, source: .v4(PacketFactory.client), sourcePort: 40000, destination: .v4(PacketFactory.server), destinationPort: 80)
    }

    /// Completes a handshake as the kernel would; returns (client ISN + 1, server ISN + 1).
    func handshake(window: UInt16 = 65535, options: [UInt8] = PacketFactory.linuxSynOptions()) -> (client: UInt32, server: UInt32) {
        input(PacketFactory.tcp(seq: 1000, flags: .syn, window: window, options: options))
        let synAck = takeSegments().first!
        input(PacketFactory.tcp(seq: 1001, ack: synAck.seq &+ 1, flags: .ack, window: window))
        _ = takeEvents()
        return (1001, synAck.seq &+ 1)
    }
}
