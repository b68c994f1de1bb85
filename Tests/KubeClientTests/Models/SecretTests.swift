import TestSupport
import Foundation
import KubeClient
import Testing

@Suite struct SecretTests {
    static let sample = #"""
        {
          "apiVersion": "v1", "kind": "Secret",
          "data": {"password": "czNjcjN0", "tls.key": "AAECA/7/", "empty": ""},
          "metadata": {
            "creationTimestamp": "2024-05-01T12:00:00Z", "name": "db-credentials", "namespace": "default",
            "resourceVersion": "801", "uid": "5ec7e700-aaaa-bbbb-cccc-ddddeeeeffff"
          },
          "type": "Opaque"
        }
        """#

    @Test func dataHoldsTheDecodedBytes() throws {
        let secret = try decode(Secret.self, Self.sample)
        #expect(secret.data?["password"] == Data("s3cr3t".utf8))
        #expect(secret.string("password") == "s3cr3t")
        #expect(secret.data?["tls.key"] == Data([0x00, 0x01, 0x02, 0x03, 0xFE, 0xFF]))
        #expect(secret.data?["empty"] == Data())
        #expect(secret.type == "Opaque")
    }

    @Test func roundTripKeepsTheServersBase64() throws {
        #expect(try roundTrip(Secret.self, Self.sample).differences == [])
    }

    @Test func encodesBytesAsPaddedBase64AndStringDataAsText() throws {
        let secret = Secret(
            metadata: ObjectMeta(name: "s"), data: ["k": Data([0xFB, 0xFF])], stringData: ["token": "abc"])
        #expect(
            try encodeToString(secret)
                == #"{"apiVersion":"v1","data":{"k":"+/8="},"kind":"Secret","metadata":{"name":"s"},"stringData":{"token":"abc"}}"#
        )
    }

    @Test func everyByteSequenceRoundTrips() throws {
        var random = SeededGenerator(seed: 42)
        for length in 0..<64 {
            let bytes = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
            let secret = Secret(metadata: ObjectMeta(name: "s"), data: ["k": bytes])
            let again = try JSONDecoder().decode(Secret.self, from: JSONEncoder().encode(secret))
            #expect(again.data?["k"] == bytes)
        }
    }

    @Test func invalidBase64IsAnErrorThatSaysSo() throws {
        let error = try #require(throws: DecodingError.self) {
            try decode(Secret.self, #"{"metadata":{},"data":{"password":"s3cr3t!"}}"#)
        }
        #expect("\(error)".contains("base64"))
    }

    @Test func wrappedBase64IsAccepted() throws {
        // Go's decoder skips line breaks, so a wrapped value from a hand-made manifest works.
        let secret = try decode(Secret.self, #"{"metadata":{},"data":{"k":"czNj\ncjN0"}}"#)
        #expect(secret.string("k") == "s3cr3t")
    }
}
