import Foundation
import Testing
import ClientSupport

/// config.yml: Telepresence's keys, our `routing.tunnelConnections`, and errors that name the file.
@Suite struct ClientConfigTests {
    func load(_ text: String) throws -> ClientConfig {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tp-config-\(UUID().uuidString).yml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try ClientConfig.load(from: file)
    }

    @Test func tunnelConnectionsDefaultToFourAndFollowTheFile() throws {
        #expect(try load("").tunnelConnections == 4)
        #expect(try load("routing:\n  tunnelConnections: 1\n").tunnelConnections == 1)
        #expect(try load("routing:\n  tunnelConnections: 16\n").tunnelConnections == 16)
    }

    @Test(arguments: ["0", "17", "-3"])
    func anOutOfRangeTunnelCountIsRefusedNamingTheFileAndTheRange(value: String) {
        #expect {
            _ = try load("routing:\n  tunnelConnections: \(value)\n")
        } throws: { error in
            let text = "\(error)"
            return text.contains("tp-config-") && text.contains("routing.tunnelConnections is \(value); use 1 to 16")
        }
    }
}
