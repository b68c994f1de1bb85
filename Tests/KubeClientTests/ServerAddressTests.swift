import KubeClient
import Testing

@Suite struct ServerAddressTests {
    @Test func parsesSchemeHostPortAndPrefix() throws {
        let address = try #require(ServerAddress(parsing: "https://api.example.com:6443/k8s/clusters/c1/"))
        #expect(address.scheme == .https)
        #expect(address.host == "api.example.com")
        #expect(address.port == 6443)
        #expect(address.basePath == "/k8s/clusters/c1")
    }

    @Test func defaultsToHTTPSAndItsPort() throws {
        let address = try #require(ServerAddress(parsing: "10.0.0.1"))
        #expect(address.scheme == .https)
        #expect(address.port == 443)
    }

    @Test func keepsIPv6LiteralsWithoutBrackets() throws {
        let address = try #require(ServerAddress(parsing: "https://[fd00::1]:8443"))
        #expect(address.host == "fd00::1")
        #expect(address.description == "https://[fd00::1]:8443")
    }

    @Test func rejectsUnknownSchemesAndEmptyHosts() {
        #expect(ServerAddress(parsing: "ftp://host") == nil)
        #expect(ServerAddress(parsing: "https://") == nil)
    }
}
