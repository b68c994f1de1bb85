import NIOCore

/// One stream's state inside `TunnelConnectionStateMachine`: its phase, both flow-control
/// windows, the bytes waiting for window, and the two half-closes.
struct TunnelStreamState {
    enum Phase: Equatable {
        /// We sent OPEN and wait for OPEN_OK / OPEN_FAILED.
        case openSent
        /// The peer sent OPEN; the application has not accepted or rejected it yet.
        case openReceived
        /// Both sides agreed; data flows.
        case open
    }

    var phase: Phase
    let transport: TunnelFlow.Transport
    /// Bytes the peer still lets us send.
    var sendWindow: Int
    /// Bytes we still let the peer send.
    var receiveWindow: Int
    /// The window we granted at open; credit is returned in quarters of it.
    let receiveWindowSize: Int
    /// Bytes delivered to the application whose credit was not yet returned.
    var consumedUnacknowledged = 0
    /// Bytes the application wrote that wait for window.
    var pending = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    var pendingBytes = 0
    /// The application closed its sending side; FIN goes out after `pending`.
    var finQueued = false
    /// FIN was sent.
    var localFinished = false
    /// FIN was received.
    var remoteFinished = false

    init(phase: Phase, transport: TunnelFlow.Transport, sendWindow: Int, receiveWindow: Int) {
        self.phase = phase
        self.transport = transport
        self.sendWindow = sendWindow
        self.receiveWindow = receiveWindow
        self.receiveWindowSize = receiveWindow
    }

    /// The application may still write.
    var isWritable: Bool { !finQueued }

    /// Both directions are done.
    var isClosed: Bool { localFinished && remoteFinished }

    /// Queues bytes behind those already waiting.
    mutating func enqueue(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        pendingBytes += bytes.readableBytes
        pending.append(bytes)
    }

    /// Takes up to `limit` bytes from the front of the queue.
    mutating func dequeue(upTo limit: Int) -> ByteBuffer? {
        guard limit > 0, var first = pending.first else { return nil }
        if first.readableBytes <= limit {
            pending.removeFirst()
            pendingBytes -= first.readableBytes
            return first
        }
        let slice = first.readSlice(length: limit)!
        pending[pending.startIndex] = first
        pendingBytes -= limit
        return slice
    }
}
