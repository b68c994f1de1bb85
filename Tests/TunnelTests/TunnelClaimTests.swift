import NIOCore
import NetworkAddress
import Testing
@testable import Tunnel

@Suite("Claims: the first stream of a tunnel to an agent names its session")
struct TunnelClaimTests {
    @Test func aClaimRoundTrips() {
        let payload = TunnelClaim.payload(session: "3f2a9c1e-7b4d-4e2f-9a61-0c5d8e7f1a2b")
        #expect(TunnelClaim.session(in: payload) == "3f2a9c1e-7b4d-4e2f-9a61-0c5d8e7f1a2b")
        #expect(TunnelClaim.isClaim(TunnelClaim.flow))
    }

    @Test func aRealFlowIsNoClaim() {
        let flow = TunnelFlow(
            transport: .tcp, source: .unspecified(.v4), destination: TunnelEndpoint(address: .v4(IPv4Address("10.244.0.7")!), port: 8080))
        #expect(!TunnelClaim.isClaim(flow))
        var udp = TunnelClaim.flow
        udp.transport = .udp
        #expect(!TunnelClaim.isClaim(udp))
    }

    @Test("malformed claims are refused, never trusted", arguments: [
        "", "TPCLAIM1 ", "TPCLAIM2 abc", "tpclaim1 abc", "TPCLAIM1 a b", "TPCLAIM1 abc\n", "TPCLAIM1 \u{7F}",
        "TPCLAIM1 " + String(repeating: "x", count: 257),
    ])
    func malformed(text: String) {
        #expect(TunnelClaim.session(in: ByteBuffer(string: text)) == nil)
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0...300, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator) { bytes = Array("TPCLAIM1 ".utf8) + bytes }
            if let session = TunnelClaim.session(in: ByteBuffer(bytes: bytes)) {
                #expect(!session.isEmpty && session.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F })
            }
        }
    }
}
