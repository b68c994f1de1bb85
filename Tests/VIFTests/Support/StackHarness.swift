import Foundation
import Glibc
import LinuxNet
import NetStack
import NetworkAddress
import TestSupport
import VIF

/// What the stack's owner does with a connection, chosen by destination port.
enum ServiceMode: Sendable {
    /// Sends back what it receives; closes after the peer closes.
    case echo
    /// Verifies incoming ``Pattern`` bytes and counts them; never sends.
    case sink
    /// Sends `total` bytes of ``Pattern``, then closes (FIN) if `close`.
    case source(total: Int, close: Bool)
    /// Leaves the SYN unanswered until the test decides.
    case hold
    /// Refuses the SYN.
    case refuse
}

/// What the owner saw on one connection.
struct ConnectionRecord: Sendable {
    var established = false
    var received = 0
    var intact = true
    var sent = 0
    var peerClosed = false
    var reset = false
    var closed = false
    /// Bytes received and not yet reported consumed (the sink holds them while paused).
    var held = 0
}

/// The stack's owner for tests, living on the loop thread: a TUN, a NetStack, and a tiny
/// application per port. Tests reach it through ``StackHarness/sync(_:)``.
final class StackLoop {
    let stack: NetStack
    let runnerLoop: NetStackRunner.Loop
    var modes: [UInt16: ServiceMode] = [:]
    var records: [FlowID: ConnectionRecord] = [:]
    var echoPending: [FlowID: [UInt8]] = [:]
    var sourceProgress: [FlowID: Int] = [:]
    var datagramsEchoed = 0
    var expiredFlows: [FlowID] = []
    /// The sink stops consuming while true (zero-window tests).
    var sinkPaused = false
    /// Drop hooks: return true to drop the packet (retransmission tests).
    var dropOutgoing: ((UnsafeRawBufferPointer) -> Bool)?
    var dropIncoming: ((UnsafeRawBufferPointer) -> Bool)? {
        didSet {
            runnerLoop.inboundFilter = dropIncoming.map { drop in
                { [unowned self] packet in
                    guard drop(packet) else { return false }
                    droppedIncoming += 1
                    return true
                }
            }
        }
    }
    var droppedOutgoing = 0
    var droppedIncoming = 0

    init(_ runnerLoop: NetStackRunner.Loop) {
        self.runnerLoop = runnerLoop
        stack = runnerLoop.stack
        let write = stack.onPacket
        stack.onPacket = { [unowned self] packet in
            if let drop = dropOutgoing, drop(packet) {
                droppedOutgoing += 1
                return
            }
            write(packet)
        }
        stack.onEvent = { [unowned self] event in handle(event) }
    }

    func mode(of id: FlowID) -> ServiceMode { modes[id.destinationPort] ?? .echo }

    private func handle(_ event: NetStackEvent) {
        switch event {
        case .connectionRequested(let id):
            switch mode(of: id) {
            case .refuse: stack.reject(id)
            case .hold: records[id] = ConnectionRecord()
            default:
                records[id] = ConnectionRecord()
                stack.accept(id)
            }
        case .established(let id):
            records[id, default: ConnectionRecord()].established = true
            pump(id)
        case .received(let id, let bytes):
            var record = records[id, default: ConnectionRecord()]
            if record.intact, case .sink = mode(of: id) {
                record.intact = Pattern.matches(bytes, at: record.received)
            }
            record.received += bytes.count
            records[id] = record
            switch mode(of: id) {
            case .echo:
                echoPending[id, default: []].append(contentsOf: bytes)
                pump(id)
            case .sink:
                if sinkPaused {
                    records[id]!.held += bytes.count
                } else {
                    stack.consumed(id, count: bytes.count)
                }
            default:
                stack.consumed(id, count: bytes.count)
            }
        case .writable(let id):
            pump(id)
        case .peerClosed(let id):
            records[id, default: ConnectionRecord()].peerClosed = true
            if case .echo = mode(of: id), echoPending[id, default: []].isEmpty { stack.close(id) }
        case .reset(let id):
            records[id, default: ConnectionRecord()].reset = true
        case .closed(let id):
            records[id, default: ConnectionRecord()].closed = true
            echoPending[id] = nil
        case .datagram(let flow, let bytes):
            if (try? stack.sendDatagram(flow, Array(bytes))) != nil { datagramsEchoed += 1 }
        case .flowExpired(let flow):
            expiredFlows.append(flow)
        }
    }

    /// Moves pending application data into the stack as far as it takes it.
    func pump(_ id: FlowID) {
        switch mode(of: id) {
        case .echo:
            guard var pending = echoPending[id], !pending.isEmpty else { return }
            guard let n = try? stack.send(id, pending), n > 0 else { return }
            pending.removeFirst(n)
            echoPending[id] = pending
            records[id, default: ConnectionRecord()].sent += n
            stack.consumed(id, count: n)
            if pending.isEmpty, records[id]?.peerClosed == true { stack.close(id) }
        case .source(let total, let close):
            var offset = sourceProgress[id, default: 0]
            while offset < total {
                let n = Pattern.withBytes(at: offset, maximum: total - offset) { chunk in
                    (try? stack.send(id, chunk)) ?? 0
                }
                if n == 0 { break }
                offset += n
            }
            sourceProgress[id] = offset
            records[id, default: ConnectionRecord()].sent = offset
            if offset == total && close { stack.close(id) }
        default:
            break
        }
    }

    /// Resumes a paused sink: consumes what it held, which opens the window.
    func resumeSink() {
        sinkPaused = false
        for (id, record) in records where record.held > 0 {
            records[id]!.held = 0
            stack.consumed(id, count: record.held)
        }
    }

    /// The connection from the kernel's `localPort`.
    func flow(fromPort port: UInt16) -> FlowID? {
        records.keys.first { $0.sourcePort == port && $0.transport == .tcp }
    }
}

/// Runs a ``StackLoop`` on a ``NetStackRunner`` against a TUN inside a fresh network namespace:
/// TUN 10.251.0.1/24, with 10.252.0.0/16 routed to it (the stack answers for that subnet).
final class StackHarness: Sendable {
    static let deviceAddress = IPv4Address(10, 251, 0, 1)
    static let routedAddress = IPv4Address(10, 252, 0, 5)

    let namespace: NetworkNamespace
    let device: TUNDevice
    let mtu: Int
    private let runner: NetStackRunner

    init(mtu: Int = 65000, configure: @escaping @Sendable (inout NetStackConfiguration) -> Void = { _ in }) throws {
        namespace = try NetworkNamespace()
        do {
            device = try namespace.run {
                let d = try TUNDevice(name: "tptun0")
                try d.setMTU(mtu)
                try d.setAddress(Self.deviceAddress, prefixLength: 24)
                try d.bringUp()
                try d.addRoute(IPv4Address(10, 252, 0, 0), prefixLength: 16)
                return d
            }
        } catch {
            namespace.delete()
            throw error
        }
        self.mtu = mtu
        var settings = NetStackConfiguration()
        settings.mtu = mtu
        configure(&settings)
        do {
            let holder = ApplicationHolder()
            runner = try NetStackRunner(device: device, configuration: settings) { loop in
                holder.application = StackLoop(loop)
            }
            self.holder = holder
        } catch {
            device.close()
            namespace.delete()
            throw error
        }
    }

    private let holder: ApplicationHolder

    /// Stops the loop, removes the device and the namespace.
    func shutdown() {
        runner.shutdown()
        holder.application = nil
        device.close()
        namespace.delete()
    }

    /// Runs `body` on the loop thread and waits for its result.
    func sync<T: Sendable>(_ body: @escaping @Sendable (StackLoop) -> T) -> T {
        let result = LockedBox<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let holder = holder
        runner.execute { _ in
            let value = body(holder.application!)
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.value!
    }

    /// Waits until `condition` holds on the loop thread; throws naming `what` after `timeout`.
    func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: @escaping @Sendable (StackLoop) -> Bool) throws {
        try waitUntilBlocking(what, timeout: timeout) { sync(condition) }
    }
}

/// Holds the loop-thread application; written in the runner's setUp and read only on its thread.
final class ApplicationHolder: @unchecked Sendable {
    var application: StackLoop?
}

/// Whether an IPv4 packet is a TCP segment carrying data.
func isTCPData(_ packet: UnsafeRawBufferPointer) -> Bool {
    guard packet.count >= 40, packet[0] >> 4 == 4, packet[9] == 6 else { return false }
    let ihl = Int(packet[0] & 0x0f) * 4
    let total = Int(packet[2]) << 8 | Int(packet[3])
    let dataOffset = Int(packet[ihl + 12] >> 4) * 4
    return total > ihl + dataOffset
}
