import Foundation
import DNS
import NIOCore
import Testing
import Tunnel
@testable import VIF
import NetworkAddress

extension NetworkTests {
    /// Cluster names looked up by asking the cluster's DNS server through the tunnel (the
    /// bridge tests' harness: a stand-in kube-dns at 10.99.0.10 in its cluster namespace).
    @Suite(.serialized) struct TunnelDNSLookupTests {
        @Test func clusterNamesResolveThroughTheTunnel() async throws {
            try await NetworkTests.TunnelBridgeTests.withHarness { harness in
                let lookup = TunnelDNSLookup(
                    server: TunnelEndpoint(address: .v4(IPv4Address(10, 99, 0, 10)), port: 53), eventLoop: harness.bridge.eventLoop,
                    multiplexer: { harness.multiplexer() })
                let web = try await lookup.lookup(name: try DNSName("web.default.svc.cluster.local"), type: .a)
                #expect(web == .records([ResourceRecord(name: try DNSName("web.default.svc.cluster.local"), ttl: 5,
                                                        data: .a(IPv4Address(10, 96, 0, 20)))]))
                #expect(try await lookup.lookup(name: try DNSName("nope.default.svc.cluster.local"), type: .a) == .nameError)
                // Too big for the server's UDP answers: truncated there, complete over TCP.
                guard case .records(let many) = try await lookup.lookup(name: try DNSName("big.default.svc.cluster.local"), type: .a) else {
                    Issue.record("expected records")
                    return
                }
                #expect(many.count == FakeClusterDNS.bigCount)
            }
        }
    }
}

/// A stand-in for kube-dns: `web` has one A record, `big` more than fit in its UDP answers
/// (it truncates above 512 bytes whatever EDNS says, as some servers do), everything else is
/// NXDOMAIN.
enum FakeClusterDNS {
    static let bigCount = 60

    static func answer(_ bytes: [UInt8], udp: Bool) -> [UInt8]? {
        guard let query = try? DNSMessage(bytes: bytes), let question = query.questions.first else { return nil }
        var response = query.makeResponse()
        switch question.name.description.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")) {
        case "web.default.svc.cluster.local":
            response.answers = [ResourceRecord(name: question.name, ttl: 5, data: .a(IPv4Address(10, 96, 0, 20)))]
        case "big.default.svc.cluster.local":
            response.answers = (0..<bigCount).map {
                ResourceRecord(name: question.name, ttl: 5, data: .a(IPv4Address(10, 244, 1, UInt8($0))))
            }
        default:
            response.header.rcode = DNSResponseCode.nameError.rawValue
        }
        return try? response.serialized(maxSize: udp ? 512 : 65535)
    }

    final class UDPHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let answer = FakeClusterDNS.answer(Array(envelope.data.readableBytesView), udp: true) else { return }
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: answer))), promise: nil)
        }
    }

    final class TCPHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var buffer = ByteBuffer()
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffer.writeBuffer(&bytes)
            while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self), buffer.readableBytes >= 2 + Int(length) {
                buffer.moveReaderIndex(forwardBy: 2)
                let query = buffer.readBytes(length: Int(length)) ?? []
                guard let answer = FakeClusterDNS.answer(query, udp: false) else { continue }
                var out = ByteBuffer()
                out.writeInteger(UInt16(answer.count))
                out.writeBytes(answer)
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }
    }
}

