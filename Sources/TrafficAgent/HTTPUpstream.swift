import NIOCore

/// Where one HTTP request (HTTP/1.1) or stream (HTTP/2) on an engaged port goes: the contract
/// between the agent's HTTP/1.1 reader (`HTTP1Router`), its HTTP/2 splitter (`HTTP2Splitter`)
/// and the data plane that owns the app's port and the clients' tunnels.
public enum HTTPUpstream: Hashable, Sendable {
    /// The app at 127.0.0.1:containerPort.
    case app(containerPort: Int)
    /// A client's workstation over its claimed tunnel, dialled there at targetHost:targetPort.
    case client(session: String, engagementID: String, targetHost: String, targetPort: Int)
}

/// The decision for one request: who answers it, and who gets a copy (wiretaps, whose answers
/// are read and discarded).
public struct HTTPRequestRoute: Hashable, Sendable {
    public var answer: HTTPUpstream
    public var copies: [HTTPUpstream]

    public init(answer: HTTPUpstream, copies: [HTTPUpstream] = []) {
        self.answer = answer
        self.copies = copies
    }
}

/// What a filter looks at in a request: its path (no query) and its header fields (for HTTP/2,
/// the regular fields; `:authority` also appears as `host`).
public struct HTTPRequestSummary: Sendable {
    public var method: String
    public var path: String
    public var headers: [(name: String, value: String)]

    public init(method: String, path: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.path = path
        self.headers = headers
    }
}

/// What the HTTP readers need from the data plane, on its event loop.
public protocol HTTPUpstreamProvider: AnyObject {
    /// Where a request on `agentPort` goes now.
    func route(agentPort: Int, request: HTTPRequestSummary) -> HTTPRequestRoute
    /// A byte stream to `upstream`: a TCP connection to the app, or a stream on the client's
    /// tunnel presented as a channel (autoRead off, half-closure allowed). Fails when the app
    /// refuses or the client holds no claimed tunnel within the claim wait.
    func connect(_ upstream: HTTPUpstream) -> EventLoopFuture<any Channel>
    /// A copy to a wiretap was cut (its workstation read too slowly, or its tunnel failed):
    /// the client is told through the manager.
    func copyCut(_ upstream: HTTPUpstream, reason: String)
}

/// How an HTTP/2 cleartext connection began, when the HTTP/1.1 reader hands it to the
/// `HTTP2Splitter`.
public enum HTTP2Start: Sendable {
    /// The client sent the connection preface: `buffered` holds every byte read so far (starting
    /// with the preface); nothing has been written to the client.
    case priorKnowledge(buffered: ByteBuffer)
    /// An HTTP/1.1 request with `Upgrade: h2c` and `HTTP2-Settings`, read whole: its method,
    /// target and header fields, its body, and any bytes read after it. Nothing has been written
    /// to the client: the splitter answers 101 and serves the request as stream 1 (RFC 7540 §3.2).
    case upgrade(method: String, target: String, headers: [(name: String, value: String)], body: ByteBuffer, rest: ByteBuffer)
}
