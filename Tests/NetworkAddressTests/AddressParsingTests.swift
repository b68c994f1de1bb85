import Glibc
import NetworkAddress
import Testing
import TestSupport

/// Text in and out, with the C library's inet_pton and inet_ntop as the independent judge.
@Suite struct AddressParsingTests {
    @Test(arguments: ["10.96.0.1", "0.0.0.0", "255.255.255.255", "192.0.2.1"])
    func ipv4RoundTrips(_ text: String) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.description == text)
        #expect(IPv4Address(bytes: address.bytes) == address)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d",
                      "1.2.3.-4", "1.2.3.4/8", "1.2.3.0004"])
    func ipv4RefusesWhatInetPtonRefuses(_ text: String) {
        #expect(IPv4Address(text) == nil)
        #expect(Self.inetPton4(text) == nil)
    }

    @Test(arguments: [
        ("::", "::"), ("::1", "::1"), ("fd00:10:96::a", "fd00:10:96::a"), ("FD00:0:0:0:0:0:0:1", "fd00::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1::", "1::"),
        ("0:0:1:0:0:0:1:0", "0:0:1::1:0"), ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
    ])
    func ipv6IsWrittenAsRFC5952Says(_ input: String, _ canonical: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == canonical)
        #expect(IPv6Address(bytes: address.bytes) == address)
        #expect(address.bytes == Self.inetPton6(input))
    }

    @Test(arguments: [":", ":::", "1:::2", "::1::2", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::", "1:",
                      ":1", "::1.2.3", "1.2.3.4::", "fe80::1%eth0", "[::1]", "1:2:3:4:5:6:7::8:9"])
    func ipv6RefusesWhatInetPtonRefuses(_ text: String) {
        #expect(IPv6Address(text) == nil)
        #expect(Self.inetPton6(text) == nil)
    }

    /// Random addresses, written by inet_ntop and by us: both parse to the same bytes, and our
    /// text is what inet_ntop writes, except that glibc also writes `::a.b.c.d` for the
    /// deprecated IPv4-compatible form, which RFC 5952 does not.
    @Test func ipv6AgreesWithTheCLibrary() throws {
        var random = SeededGenerator(seed: 6)
        for _ in 0..<5000 {
            // Many zero groups, so that runs of zeros (and their ties) are common.
            let groups = (0..<8).map { _ in Bool.random(using: &random) ? 0 : UInt16.random(in: 0...0xffff, using: &random) }
            let address = IPv6Address(groups: groups)
            let theirs = try #require(Self.inetNtop6(address.bytes))
            #expect(IPv6Address(theirs) == address, "inet_ntop wrote \(theirs)")
            #expect(Self.inetPton6(address.description) == address.bytes)
            if address.high != 0 || address.low >> 32 != 0 || address.low == 0 || address.low == 1 {
                #expect(address.description == theirs)
            }
        }
    }

    /// Random short strings from an address alphabet: we accept exactly what inet_pton accepts.
    @Test func parsersAcceptWhatInetPtonAccepts() {
        var random = SeededGenerator(seed: 7)
        let alphabet = Array("0123456789abcdefABCDEF:.:.0:")
        for _ in 0..<20000 {
            let text = String((0..<Int.random(in: 0...20, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            #expect((IPv4Address(text)?.bytes) == Self.inetPton4(text), "\(text)")
            #expect((IPv6Address(text)?.bytes) == Self.inetPton6(text), "\(text)")
        }
    }

    @Test func eitherFamily() throws {
        #expect(IPAddress("10.0.0.1") == .v4(IPv4Address(10, 0, 0, 1)))
        #expect(IPAddress("::1") == .v6(.loopback))
        #expect(IPAddress("example.org") == nil)
        #expect(IPAddress(bytes: [10, 0, 0, 1]) == .v4(IPv4Address(10, 0, 0, 1)))
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        let sorted = [IPAddress("::1")!, IPAddress("10.0.0.2")!, IPAddress("10.0.0.1")!].sorted()
        #expect(sorted.map(\.description) == ["10.0.0.1", "10.0.0.2", "::1"])
    }

    static func inetPton4(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static func inetPton6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static func inetNtop6(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(cString: buffer) : nil
    }
}
