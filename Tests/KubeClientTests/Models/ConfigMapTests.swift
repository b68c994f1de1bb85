import Foundation
import KubeClient
import Testing

@Suite struct ConfigMapTests {
    static let sample = #"""
        {
          "apiVersion": "v1", "kind": "ConfigMap",
          "binaryData": {"logo.png": "iVBORw0KGgo="},
          "data": {"app.yaml": "port: 8080\nlog: json\n", "flags": "a,b"},
          "metadata": {
            "creationTimestamp": "2024-05-01T12:00:00Z", "name": "web-config", "namespace": "default",
            "resourceVersion": "700", "uid": "c0ffee00-1111-2222-3333-444455556666"
          }
        }
        """#

    @Test func decodesTextAndBytes() throws {
        let map = try decode(ConfigMap.self, Self.sample)
        #expect(map.data?["app.yaml"] == "port: 8080\nlog: json\n")
        #expect(map.binaryData?["logo.png"] == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    @Test func roundTripIsLossless() throws {
        #expect(try roundTrip(ConfigMap.self, Self.sample).differences == [])
    }

    @Test func invalidBase64InBinaryDataIsAnError() {
        #expect(throws: DecodingError.self) {
            try decode(ConfigMap.self, #"{"metadata":{},"binaryData":{"x":"not base64!"}}"#)
        }
    }
}
