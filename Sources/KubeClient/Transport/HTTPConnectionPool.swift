import NIOCore
import NIOHTTP1
import Synchronization

/// One keep-alive HTTP/1.1 connection to the API server.
final class HTTPConnection: Sendable {
    let channel: any Channel
    let identity: ClientCertificate?
    private let handler: NIOLoopBound<HTTPExchangeHandler>

    init(channel: any Channel, identity: ClientCertificate?, handler: NIOLoopBound<HTTPExchangeHandler>) {
        self.channel = channel
        self.identity = identity
        self.handler = handler
    }

    /// Sends one request and waits for the response head. Cancelling the waiting task closes the
    /// connection, which also ends the server's side of a watch or a log stream.
    func execute(
        head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline?, deadlineCoversBody: Bool,
        timeoutError: any Error, onIdle: @escaping @Sendable () -> Void
    ) async throws -> HTTPResponseStart {
        let promise = channel.eventLoop.makePromise(of: HTTPResponseStart.self)
        let handler = handler
        channel.eventLoop.execute {
            handler.value.execute(
                head: head, body: body, deadline: deadline, deadlineCoversBody: deadlineCoversBody,
                timeoutError: timeoutError, onIdle: onIdle, promise: promise)
        }
        let channel = channel
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Keeps idle keep-alive connections per client certificate identity (a credential plugin may
/// rotate certificates, and a TLS connection is bound to the certificate it presented).
final class HTTPConnectionPool: Sendable {
    private let connector: Connector
    private let maxIdlePerIdentity = 8
    private let idle = Mutex<[ClientCertificate?: [HTTPConnection]]>([:])

    init(connector: Connector) {
        self.connector = connector
    }

    /// An idle connection for `identity`, or a new one; `reused` tells which.
    func connection(presenting identity: ClientCertificate?) async throws -> (connection: HTTPConnection, reused: Bool) {
        while let candidate = idle.withLock({ $0[identity]?.popLast() }) {
            if candidate.channel.isActive { return (candidate, true) }
        }
        let channel = try await connector.connect(clientCertificate: identity)
        do {
            let handler = try await channel.eventLoop.submit {
                let handler = HTTPExchangeHandler()
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(handler)
                return NIOLoopBound(handler, eventLoop: channel.eventLoop)
            }.get()
            return (HTTPConnection(channel: channel, identity: identity, handler: handler), false)
        } catch {
            channel.close(promise: nil)
            throw connector.mapEarlyFailure(error, presenting: identity)
        }
    }

    /// Returns a connection whose last response ended cleanly.
    func release(_ connection: HTTPConnection) {
        guard connection.channel.isActive else { return }
        let kept = idle.withLock { pool -> Bool in
            var list = pool[connection.identity] ?? []
            guard list.count < maxIdlePerIdentity else { return false }
            list.append(connection)
            pool[connection.identity] = list
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }

    /// Closes every idle connection.
    func closeIdle() {
        let all = idle.withLock { pool -> [HTTPConnection] in
            defer { pool.removeAll() }
            return pool.values.flatMap { $0 }
        }
        for connection in all { connection.channel.close(promise: nil) }
    }
}
