#if os(Linux)
import Glibc
import LinuxNet
import NIOCore
import NIOPosix

extension TUNDevice {
    /// Registers a duplicate of the device's descriptor with a NIO event loop as an input-only
    /// pipe channel: each `channelRead` is one IP packet (a `ByteBuffer`), and
    /// `channelReadComplete` ends a batch (the moment to call `NetStack.flush()`). Write packets
    /// with ``write(_:)`` from the same event loop: it never blocks (a full queue drops), and it
    /// keeps NIO from coalescing packets into one `writev`.
    ///
    /// This puts TUN, NetStack and tunnel streams on one event loop with no thread hop. Close
    /// the channel as well as the device: the interface goes away when both descriptors are closed.
    /// Throws at once when the descriptor cannot be duplicated; the future fails if the
    /// channel cannot be registered.
    public func makeReadChannel(
        group: any EventLoopGroup,
        maximumPacketsPerRead: Int = 64,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) throws(TUNDeviceError) -> EventLoopFuture<any Channel> {
        let duplicate = dup(fileDescriptor)
        guard duplicate >= 0 else {
            throw .ioFailed(operation: "duplicate its descriptor", interface: name, errno: errno)
        }
        let future = NIOPipeBootstrap(group: group)
            .channelOption(.maxMessagesPerRead, value: UInt(maximumPacketsPerRead))
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
            .channelInitializer(initializer)
            .takingOwnershipOfDescriptor(input: duplicate)
        future.whenFailure { _ in Glibc.close(duplicate) }
        return future
    }
}
#endif
