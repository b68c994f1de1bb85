import Foundation
import KubeClient
import NIOCore
import NIOPosix
import NIOWebSocket

/// Runs `pods/exec` on an upgraded WebSocket with the channel protocol (v1-v5): channel 0 is the
/// process's stdin, 1 its stdout, 2 its stderr, 3 the status the session ends with, 4 terminal
/// resizes (`{"Width":W,"Height":H}`); v5's `[255, 0]` closes stdin. The process's pipes are
/// NIO pipe channels on this connection's event loop. The session ends when the process has
/// exited and its output is drained (or a moment after the exit, when a child it left behind
/// still holds the pipes): the status goes out, then a close frame.
final class ExecSession: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// How long output may still arrive after the process exited before the session ends anyway.
    static let drainGrace: TimeAmount = .seconds(2)

    private let plan: ExecPlan
    private var reader = ChannelMessageReader()
    private var context: ChannelHandlerContext?
    private var stdinChannel: (any Channel)?
    private var stdinPending: [ByteBuffer] = []
    private var stdinCloseRequested = false
    private var outputs: [any Channel] = []
    private var openOutputs = 0
    private var exitCode: Int32?
    private var finished = false

    init(plan: ExecPlan) {
        self.plan = plan
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard let process = plan.process else {
            finish(status: failureStatus(plan.startFailure ?? "the command could not be started"))
            return
        }
        let eventLoop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        var taken = Set<Int32>()
        func own(_ fd: Int32) -> Int32 {
            // A terminal is one descriptor for input and output; each channel needs its own.
            taken.insert(fd).inserted ? fd : dup(fd)
        }
        for (fd, channel, wanted) in [(process.stdout, UInt8(1), plan.stdout || plan.tty), (process.stderr, UInt8(2), plan.stderr)] {
            guard let fd else { continue }
            let owned = own(fd)
            openOutputs += 1
            NIOPipeBootstrap(group: eventLoop)
                .channelInitializer { pipe in
                    pipe.eventLoop.makeCompletedFuture {
                        try pipe.pipeline.syncOperations.addHandler(OutputRelay(session: this.value, channel: wanted ? channel : nil))
                    }
                }
                .takingOwnershipOfDescriptor(input: owned)
                .assumeIsolated()
                .whenComplete { result in
                    switch result {
                    case .success(let pipe): this.value.outputs.append(pipe)
                    case .failure:
                        Glibc.close(owned)
                        this.value.outputClosed()
                    }
                }
        }
        if let fd = process.stdin {
            let owned = own(fd)
            NIOPipeBootstrap(group: eventLoop)
                .takingOwnershipOfDescriptor(output: owned)
                .assumeIsolated()
                .whenComplete { result in
                    switch result {
                    case .success(let pipe): this.value.stdinAttached(pipe)
                    case .failure: Glibc.close(owned)
                    }
                }
        }
        Task {
            let code = await process.wait()
            eventLoop.execute { this.value.exited(code) }
        }
    }

    private func stdinAttached(_ pipe: any Channel) {
        if finished || stdinCloseRequested && stdinPending.isEmpty {
            pipe.close(promise: nil)
            return
        }
        stdinChannel = pipe
        for buffer in stdinPending { pipe.write(buffer, promise: nil) }
        stdinPending = []
        pipe.flush()
        if stdinCloseRequested { pipe.close(promise: nil) }
    }

    private func exited(_ code: Int32) {
        exitCode = code
        if openOutputs == 0 { return finish(status: exitStatus(code)) }
        let this = NIOLoopBound(self, eventLoop: context!.eventLoop)
        context?.eventLoop.scheduleTask(in: Self.drainGrace) {
            this.value.finish(status: this.value.exitStatus(code))
        }
    }

    fileprivate func outputClosed() {
        openOutputs -= 1
        if openOutputs == 0, let exitCode { finish(status: exitStatus(exitCode)) }
    }

    fileprivate func output(_ channel: UInt8, _ buffer: ByteBuffer) {
        guard let context, !finished else { return }
        context.write(wrapOutboundOut(ChannelProtocol.frame(channel: channel, payload: buffer, allocator: context.channel.allocator)), promise: nil)
    }

    fileprivate func flushToClient() { context?.flush() }

    // MARK: Status

    /// What channel 3 carries at the end (nil: nothing, as v1-v3 say success).
    private func exitStatus(_ code: Int32) -> [UInt8]? {
        if code == 0 {
            return plan.version.hasStatusJSON ? JSONBytes.encode(["metadata": [:], "status": "Success"]) : nil
        }
        let message = "command terminated with non-zero exit code: error executing command [\(plan.command.joined(separator: " "))], exit code \(code)"
        guard plan.version.hasStatusJSON else { return Array(message.utf8) }
        let status: JSONValue = [
            "metadata": [:], "status": "Failure", "message": .string(message), "reason": "NonZeroExitCode",
            "details": ["causes": [["reason": "ExitCode", "message": .string(String(code))]]], "code": 500,
        ]
        return JSONBytes.encode(status)
    }

    private func failureStatus(_ reason: String) -> [UInt8] {
        let message = "Internal error occurred: error executing command in container: \(reason)"
        guard plan.version.hasStatusJSON else { return Array(message.utf8) }
        let status: JSONValue = [
            "metadata": [:], "status": "Failure", "message": .string(message), "reason": "InternalError",
            "details": ["causes": [["message": .string(reason)]]], "code": 500,
        ]
        return JSONBytes.encode(status)
    }

    /// Sends the status and a close frame, then closes the connection and the process's pipes.
    private func finish(status: [UInt8]?) {
        guard !finished, let context else { return }
        finished = true
        let allocator = context.channel.allocator
        if let status {
            context.write(wrapOutboundOut(ChannelProtocol.frame(channel: 3, payload: ByteBuffer(bytes: status), allocator: allocator)), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ChannelProtocol.closeFrame(allocator: allocator)))
            .whenComplete { _ in channel.close(promise: nil) }
        closePipes()
    }

    private func closePipes() {
        stdinChannel?.close(promise: nil)
        stdinChannel = nil
        for output in outputs { output.close(promise: nil) }
        outputs = []
    }

    // MARK: From the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let event = reader.receive(opcode: frame.opcode, fin: frame.fin, payload: frame.fastUnmaskedData) else { return }
        switch event {
        case .data(0, let payload):
            guard plan.stdin, !stdinCloseRequested, payload.readableBytes > 0 else { return }
            if let stdinChannel {
                stdinChannel.writeAndFlush(payload, promise: nil)
            } else {
                stdinPending.append(payload)
            }
        case .data(4, let payload):
            if let size = Self.terminalSize(payload) { plan.process?.resize(size.width, size.height) }
        case .data(255, var payload) where plan.version.hasClose:
            if payload.readInteger(as: UInt8.self) == 0 {
                stdinCloseRequested = true
                if stdinPending.isEmpty { stdinChannel?.close(promise: nil) }
            }
        case .data:
            break
        case .ping(let payload):
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        case .close, .violation:
            // The client left: its pipes close, so the process sees EOF (and SIGPIPE on output).
            finished = true
            closePipes()
            context.close(promise: nil)
        }
    }

    /// A resize message: `{"Width":80,"Height":24}`; nil when it is not one.
    static func terminalSize(_ payload: ByteBuffer) -> (width: UInt16, height: UInt16)? {
        guard let value = try? JSONBytes.decode(Array(payload.readableBytesView)),
              let width = value["Width"]?.intValue, let height = value["Height"]?.intValue,
              (0...Int(UInt16.max)).contains(width), (0...Int(UInt16.max)).contains(height) else { return nil }
        return (UInt16(width), UInt16(height))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        for output in outputs { try? output.syncOptions?.setOption(.autoRead, value: writable) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finished = true
        closePipes()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// One output pipe of the process: hands its bytes to the session for `channel` (nil: the client
/// did not ask for them; they are read and dropped so the process never blocks).
private final class OutputRelay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let session: ExecSession
    private let channel: UInt8?

    init(session: ExecSession, channel: UInt8?) {
        self.session = session
        self.channel = channel
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let channel { session.output(channel, unwrapInboundIn(data)) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        session.flushToClient()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.outputClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A terminal's master side reports EIO once the last process on it is gone: that is its EOF.
        context.close(promise: nil)
    }
}
