import Foundation
import KubeClient
import Testing

@Suite struct IntOrStringTests {
    private struct Port: Codable, Equatable {
        var targetPort: IntOrString
    }

    @Test func keepsTheNumberForm() throws {
        let port = try decode(Port.self, #"{"targetPort":8080}"#)
        #expect(port.targetPort == .int(8080))
        #expect(port.targetPort.intValue == 8080)
        #expect(try encodeToString(port) == #"{"targetPort":8080}"#)
    }

    @Test func keepsTheNameForm() throws {
        let port = try decode(Port.self, #"{"targetPort":"http"}"#)
        #expect(port.targetPort == .string("http"))
        #expect(port.targetPort.stringValue == "http")
        #expect(try encodeToString(port) == #"{"targetPort":"http"}"#)
    }

    @Test func aNumericStringStaysAString() throws {
        // "25%" and "8080" as strings mean something else to the server than numbers.
        let port = try decode(Port.self, #"{"targetPort":"8080"}"#)
        #expect(port.targetPort == .string("8080"))
        #expect(try encodeToString(port) == #"{"targetPort":"8080"}"#)
    }

    @Test func rejectsOtherJSON() {
        #expect(throws: DecodingError.self) { try decode(Port.self, #"{"targetPort":true}"#) }
        #expect(throws: DecodingError.self) { try decode(Port.self, #"{"targetPort":1.5}"#) }
        #expect(throws: DecodingError.self) { try decode(Port.self, #"{"targetPort":null}"#) }
    }

    @Test func literals() {
        let number: IntOrString = 80
        let name: IntOrString = "http"
        #expect(number.description == "80")
        #expect(name.description == "http")
    }
}

@Suite struct QuantityTests {
    private struct Limits: Codable, Equatable {
        var cpu: Quantity
    }

    @Test func keepsTheServersText() throws {
        let limits = try decode(Limits.self, #"{"cpu":"500m"}"#)
        #expect(limits.cpu == "500m")
        #expect(try encodeToString(limits) == #"{"cpu":"500m"}"#)
    }

    @Test func acceptsABareNumberFromAHandWrittenManifest() throws {
        let limits = try decode(Limits.self, #"{"cpu":2}"#)
        #expect(limits.cpu.value == "2")
        #expect(try encodeToString(limits) == #"{"cpu":"2"}"#)
    }
}
