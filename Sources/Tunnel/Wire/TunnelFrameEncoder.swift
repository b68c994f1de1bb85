import NIOCore
import NetworkAddress

/// Writes frames in the wire format (big-endian; see `Sources/Tunnel/README.md`).
public enum TunnelFrameEncoder {
    /// Appends `frame` to `buffer`, payload included.
    public static func encode(_ frame: TunnelFrame, into buffer: inout ByteBuffer) {
        switch frame {
        case .data(let stream, var payload), .datagram(let stream, var payload):
            let type: TunnelWire.FrameType = if case .data = frame { .data } else { .datagram }
            writeHeader(type: type, flags: 0, stream: stream, length: payload.readableBytes, into: &buffer)
            buffer.writeBuffer(&payload)
        default:
            let lengthIndex = buffer.writerIndex
            writeHeader(type: .hello, flags: 0, stream: 0, length: 0, into: &buffer)  // patched below
            let (type, flags) = writePayload(of: frame, into: &buffer)
            let length = buffer.writerIndex - lengthIndex - TunnelWire.headerSize
            buffer.setInteger(UInt32(length), at: lengthIndex)
            buffer.setInteger(type.rawValue, at: lengthIndex + 4)
            buffer.setInteger(flags, at: lengthIndex + 5)
            buffer.setInteger(frame.streamID, at: lengthIndex + 6)
        }
    }

    /// The frame as a new buffer.
    public static func encode(_ frame: TunnelFrame, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: TunnelWire.headerSize + 32)
        encode(frame, into: &buffer)
        return buffer
    }

    /// Writes only a frame header; the caller sends `length` payload bytes right after it
    /// (used to send DATA without copying the payload).
    public static func writeHeader(type: TunnelWire.FrameType, flags: UInt8, stream: TunnelStreamID, length: Int,
                                   into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(length))
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(flags)
        buffer.writeInteger(stream)
    }

    private static func writePayload(of frame: TunnelFrame, into buffer: inout ByteBuffer) -> (TunnelWire.FrameType, UInt8) {
        switch frame {
        case .hello(let hello):
            buffer.writeInteger(TunnelWire.magic)
            buffer.writeInteger(hello.version)
            buffer.writeInteger(hello.maxFrameSize)
            buffer.writeInteger(hello.connectionWindow)
            return (.hello, 0)
        case .open(_, var open):
            buffer.writeInteger(open.flow.transport.rawValue)
            buffer.writeInteger(UInt8(open.flow.source.address.isV4 ? 4 : 6))
            write(open.flow.source, into: &buffer)
            write(open.flow.destination, into: &buffer)
            buffer.writeInteger(open.window)
            buffer.writeInteger(open.dialTimeoutMilliseconds)
            buffer.writeBuffer(&open.initialData)
            return (.open, open.fin ? TunnelWire.flagFIN : 0)
        case .openOK(_, let window):
            buffer.writeInteger(window)
            return (.openOK, 0)
        case .openFailed(_, let reason, let message):
            buffer.writeInteger(reason.rawValue)
            buffer.writeString(message)
            return (.openFailed, 0)
        case .windowUpdate(_, let increment):
            buffer.writeInteger(increment)
            return (.windowUpdate, 0)
        case .fin:
            return (.fin, 0)
        case .reset(_, let reason):
            buffer.writeInteger(reason.rawValue)
            return (.reset, 0)
        case .ping(let value):
            buffer.writeInteger(value)
            return (.ping, 0)
        case .pong(let value):
            buffer.writeInteger(value)
            return (.pong, 0)
        case .goAway(let last, let code, let message):
            buffer.writeInteger(last)
            buffer.writeInteger(code.rawValue)
            buffer.writeString(message)
            return (.goAway, 0)
        case .data, .datagram:
            preconditionFailure("DATA and DATAGRAM are encoded without a copy")
        }
    }

    private static func write(_ endpoint: TunnelEndpoint, into buffer: inout ByteBuffer) {
        switch endpoint.address {
        case .v4(let a):
            buffer.writeInteger(a.value)
        case .v6(let a):
            buffer.writeInteger(a.high)
            buffer.writeInteger(a.low)
        }
        buffer.writeInteger(endpoint.port)
    }
}
