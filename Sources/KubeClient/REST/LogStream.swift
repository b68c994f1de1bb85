import NIOCore

/// The bytes of a followed container log, as they arrive. Iterate it once.
public struct LogStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let producer: BodyProducer
    let mapError: @Sendable (any Error) -> any Error

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: BodyProducer.AsyncIterator
        let mapError: @Sendable (any Error) -> any Error

        public mutating func next() async throws -> ByteBuffer? {
            do { return try await base.next() } catch { throw mapError(error) }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: producer.makeAsyncIterator(), mapError: mapError)
    }

    /// The log as lines without their terminating newline; a last line without newline is
    /// delivered when the stream ends.
    public var lines: LogLines { LogLines(bytes: self) }
}

/// The lines of a followed container log.
public struct LogLines: AsyncSequence, Sendable {
    public typealias Element = String
    let bytes: LogStream

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: LogStream.AsyncIterator
        var splitter = LineSplitter()
        var pending: [String] = []
        var finished = false

        public mutating func next() async throws -> String? {
            while pending.isEmpty {
                if finished { return nil }
                if let chunk = try await base.next() {
                    pending = splitter.append(chunk).map { String(decoding: $0.readableBytesView, as: UTF8.self) }
                } else {
                    finished = true
                    if let rest = splitter.finish() { pending = [String(decoding: rest.readableBytesView, as: UTF8.self)] }
                }
            }
            return pending.removeFirst()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: bytes.makeAsyncIterator())
    }
}
