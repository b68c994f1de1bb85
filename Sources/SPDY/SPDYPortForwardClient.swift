/// The client's side of one forwarded TCP connection over a SPDY/3.1 session, as client-go's
/// port-forwarder does it (`portforward.k8s.io`): an error stream (half-closed at once; the
/// server writes a failure there) and a data stream, both tagged with the remote port and a
/// request id. A state machine without I/O: frames in, actions out.
///
/// Flow control: Kubernetes' SPDY peers (moby/spdystream in the API server and kubelet) neither
/// send nor honour WINDOW_UPDATE, so this side does not wait for send window; it does grant
/// window for what it received, which keeps a strict SPDY/3.1 peer from stalling and costs a
/// spdystream peer nothing (it drops the frame).
public struct SPDYPortForwardClient: Sendable {
    /// What the caller must do after an input.
    public enum Action: Equatable, Sendable {
        /// Write these frames to the connection.
        case send([SPDYFrame])
        /// Bytes from the pod's port.
        case deliver([UInt8])
        /// The pod side finished sending (data stream FIN); more writes may still go out.
        case remoteFinished
        /// The server reported a failure (error stream text, a reset, or GOAWAY): close the
        /// connection and tell the user `message`.
        case failed(String)
        /// The peer broke the protocol: close the connection.
        case violation(String)
    }

    public let port: Int
    public let requestID: Int
    /// Client-initiated stream ids are odd (SPDY/3.1 §2.3.2).
    public let errorStreamID: UInt32 = 1
    public let dataStreamID: UInt32 = 3
    /// Largest DATA payload this side sends in one frame.
    public let maxDataPayload: Int

    private var errorText: [UInt8] = []
    private var errorStreamFinished = false
    private var dataRemoteFinished = false
    private var dataLocalFinished = false
    private var unacknowledged: [UInt32: Int] = [:]
    private var failed = false

    /// How many received bytes on a stream trigger a WINDOW_UPDATE for them.
    static let windowUpdateThreshold = 32 * 1024

    public init(port: Int, requestID: Int = 0, maxDataPayload: Int = 256 * 1024) {
        self.port = port
        self.requestID = requestID
        self.maxDataPayload = maxDataPayload
    }

    private func headers(_ type: String) -> SPDYHeaders {
        ["streamtype": type, "port": String(port), "requestid": String(requestID)]
    }

    /// The frames that open the forwarded connection (write them right after the upgrade).
    public func start() -> [SPDYFrame] {
        [
            .synStream(SPDYSynStream(streamID: errorStreamID, fin: true, headers: headers("error"))),
            .synStream(SPDYSynStream(streamID: dataStreamID, headers: headers("data"))),
        ]
    }

    /// Frames carrying `bytes` to the pod's port (empty once this side finished).
    public func send(_ bytes: some Collection<UInt8>) -> [SPDYFrame] {
        guard !dataLocalFinished, !bytes.isEmpty else { return [] }
        var frames: [SPDYFrame] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(maxDataPayload)
            frames.append(.data(streamID: dataStreamID, fin: false, payload: Array(chunk)))
            rest = rest.dropFirst(chunk.count)
        }
        return frames
    }

    /// Half-closes the data stream: the pod's side reads EOF.
    public mutating func finish() -> [SPDYFrame] {
        guard !dataLocalFinished else { return [] }
        dataLocalFinished = true
        return [.data(streamID: dataStreamID, fin: true, payload: [])]
    }

    /// Handles one frame from the server.
    public mutating func receive(_ frame: SPDYFrame) -> [Action] {
        guard !failed else { return [] }
        switch frame {
        case .data(let streamID, let fin, let payload):
            return receiveData(streamID: streamID, fin: fin, payload: payload)
        case .synReply(let streamID, let fin, _):
            guard streamID == errorStreamID || streamID == dataStreamID else {
                return violation("SYN_REPLY for stream \(streamID), which this client never opened")
            }
            return fin ? finishStream(streamID) : []
        case .headers(let streamID, let fin, _):
            return fin ? finishStream(streamID) : []
        case .rstStream(let streamID, let status):
            guard streamID == errorStreamID || streamID == dataStreamID else { return [] }
            failed = true
            return [.failed("the server reset the port-forward stream (SPDY status \(status.rawValue))")]
        case .synStream(let syn):
            // The server has no reason to open streams here; refuse politely.
            return [.send([.rstStream(streamID: syn.streamID, status: .refusedStream)])]
        case .ping(let id):
            // Echo the server's pings (even ids); ours would be odd, and we send none.
            return id % 2 == 0 ? [.send([.ping(id: id)])] : []
        case .goAway:
            if dataRemoteFinished { return [] }
            failed = true
            return [.failed("the server ended the port-forward session (GOAWAY)")]
        case .settings, .windowUpdate:
            return []
        }
    }

    /// The connection ended: a failure the server wrote without finishing the error stream, or
    /// nil when it ended cleanly.
    public mutating func connectionClosed() -> String? {
        guard !failed, !errorText.isEmpty else { return nil }
        failed = true
        return String(decoding: errorText, as: UTF8.self)
    }

    private mutating func receiveData(streamID: UInt32, fin: Bool, payload: [UInt8]) -> [Action] {
        var actions: [Action] = []
        switch streamID {
        case dataStreamID:
            guard !dataRemoteFinished else { return violation("DATA after FIN on the data stream") }
            if !payload.isEmpty { actions.append(.deliver(payload)) }
        case errorStreamID:
            guard !errorStreamFinished else { return violation("DATA after FIN on the error stream") }
            // An error message is short; a flood is not one.
            if errorText.count + payload.count > 64 * 1024 { return violation("the error stream exceeds 64 KiB") }
            errorText += payload
        default:
            return violation("DATA for stream \(streamID), which this client never opened")
        }
        if let update = acknowledge(streamID: streamID, count: payload.count) { actions.append(.send([update])) }
        if fin { actions += finishStream(streamID) }
        return actions
    }

    private mutating func acknowledge(streamID: UInt32, count: Int) -> SPDYFrame? {
        guard count > 0 else { return nil }
        let pending = unacknowledged[streamID, default: 0] + count
        if pending >= Self.windowUpdateThreshold {
            unacknowledged[streamID] = 0
            return .windowUpdate(streamID: streamID, delta: UInt32(pending))
        }
        unacknowledged[streamID] = pending
        return nil
    }

    private mutating func finishStream(_ streamID: UInt32) -> [Action] {
        if streamID == errorStreamID, !errorStreamFinished {
            errorStreamFinished = true
            let text = String(decoding: errorText, as: UTF8.self)
            if !text.isEmpty {
                failed = true
                return [.failed(text)]
            }
        } else if streamID == dataStreamID, !dataRemoteFinished {
            dataRemoteFinished = true
            return [.remoteFinished]
        }
        return []
    }

    private mutating func violation(_ reason: String) -> [Action] {
        failed = true
        return [.violation(reason)]
    }
}
