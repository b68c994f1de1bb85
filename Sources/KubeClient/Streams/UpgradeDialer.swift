import NIOCore
import NIOHTTP1

/// Opens upgraded streams (WebSocket for port-forward and exec; SPDY/3.1 for the port-forward
/// fallback) to the API server over the same `Connector` as REST calls, with the same
/// credentials and a 401 refresh-and-retry.
struct UpgradeDialer: Sendable {
    let transport: HTTPTransport
    var kind: HTTPUpgradeHandler.Kind = .webSocket
    /// Refusals with these HTTP codes throw `Refused` (so the caller can try another protocol)
    /// instead of the server's Status as a `KubeError`.
    var fallbackCodes: @Sendable (Int) -> Bool = { _ in false }
    /// The loop the connection lives on (nil: any of the client's).
    var eventLoop: (any EventLoop)?

    /// The server answered the upgrade with a plain response whose code the caller falls back on.
    struct Refused: Error {
        let code: Int
        /// The error the caller reports if it does not fall back.
        let error: KubeError
    }

    /// An upgraded channel whose pipeline ends in a `WebSocketMessageHandler` followed by what
    /// `configure` added, the subprotocol the server chose, and what `configure` returned.
    struct Upgraded<Configured: Sendable>: Sendable {
        let channel: any Channel
        let subprotocol: String?
        let configured: Configured
    }

    private enum Outcome<Configured: Sendable>: Sendable {
        case upgraded(String?, Configured)
        case rejected(EventLoopFuture<(HTTPResponseHead, ByteBuffer)>)
    }

    /// Opens the stream. `configure` runs on the event loop as part of the upgrade, before any
    /// frame is read, so it can add the handlers that consume the server's first messages.
    func open<Configured: Sendable>(
        _ request: APIRequest, subprotocols: [String],
        configure: @escaping @Sendable (any Channel, String?) throws -> Configured
    ) async throws -> Upgraded<Configured> {
        var refreshed = false
        let credentialSource = transport.configuration.credentials
        while true {
            let credentials = try await credentialSource.credentials()
            let identity = transport.configuration.server.scheme == .https ? credentials.clientCertificate : nil
            let channel = try await transport.connector.connect(clientCertificate: identity, on: eventLoop)
            var head = transport.makeHead(request, credentials: credentials)
            switch kind {
            case .webSocket:
                head.headers.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", "))
            case .spdy:
                for subprotocol in subprotocols { head.headers.add(name: "X-Stream-Protocol-Version", value: subprotocol) }
            }
            do {
                let outcome = try await withTaskCancellationHandler {
                    try await upgrade(channel: channel, head: head, configure: configure)
                } onCancel: {
                    channel.close(promise: nil)
                }
                switch outcome {
                case .upgraded(let chosen, let configured):
                    if let chosen, !subprotocols.contains(chosen) {
                        channel.close(promise: nil)
                        throw KubeError.upgradeFailed(
                            server: transport.configuration.server.description,
                            reason: "the server chose the unknown subprotocol \(chosen)")
                    }
                    return Upgraded(channel: channel, subprotocol: chosen, configured: configured)
                case .rejected(let response):
                    let (responseHead, body) = try await response.get()
                    channel.close(promise: nil)
                    let code = Int(responseHead.status.code)
                    if code == 401, !refreshed, try await credentialSource.refreshAfterUnauthorized() {
                        refreshed = true
                        continue
                    }
                    let error: KubeError
                    if (200..<300).contains(code) {
                        error = KubeError.upgradeFailed(
                            server: transport.configuration.server.description,
                            reason: "it answered HTTP \(code) instead of switching to \(kind == .spdy ? "SPDY/3.1" : "WebSocket")")
                    } else {
                        error = transport.error(code: code, body: body, request: request)
                    }
                    if fallbackCodes(code) { throw Refused(code: code, error: error) }
                    throw error
                }
            } catch let refused as Refused {
                throw refused
            } catch {
                channel.close(promise: nil)
                throw transport.mapError(error)
            }
        }
    }

    private func upgrade<Configured: Sendable>(
        channel: any Channel, head: HTTPRequestHead,
        configure: @escaping @Sendable (any Channel, String?) throws -> Configured
    ) async throws -> Outcome<Configured> {
        let timeout = transport.connector.connectTimeout
        let result = channel.eventLoop.makePromise(of: HTTPUpgradeHandler.Result.self)
        let configured = try await channel.eventLoop.submit { () -> NIOLoopBound<Box<Configured>> in
            let box = NIOLoopBound(Box<Configured>(), eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandler(HTTPUpgradeHandler(
                request: head, kind: kind, promise: result,
                onUpgrade: { channel, chosen in box.value.value = try configure(channel, chosen) }))
            return box
        }.get()
        let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { timer.cancel() }
        switch try await result.futureResult.get() {
        case .upgraded(let chosen):
            let value = try await channel.eventLoop.submit { configured.value.value }.get()
            guard let value else { throw KubeError.streamProtocolViolation("the stream was not configured") }
            return .upgraded(chosen, value)
        case .rejected(let responseHead, let body):
            return .rejected(channel.eventLoop.makeSucceededFuture((responseHead, body)))
        }
    }

    /// Carries what `configure` made from the event loop back to the caller.
    private final class Box<Value> {
        var value: Value?
    }
}
