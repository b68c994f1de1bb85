import Glibc
import LinuxNet
import NetStack
import Testing
@testable import VIF
import NetworkAddress

extension NetworkTests {
    @Suite(.serialized)
    struct TUNDeviceTests {
        @Test func configurationIsVisibleToTheKernelAndCloseRemovesTheDevice() throws {
            guard NetworkTestEnvironment.check() else { return }
            let ns = try NetworkNamespace()
            defer { ns.delete() }
            let device = try ns.run {
                let d = try TUNDevice(name: "tpdev%d")
                try d.setMTU(65000)
                try d.setAddress(IPv4Address(10, 251, 7, 1), prefixLength: 24)
                try d.bringUp()
                try d.addRoute(IPv4Address(10, 96, 0, 0), prefixLength: 12)
                try d.addRoute(IPv4Address(10, 244, 3, 0), prefixLength: 24)
                return d
            }
            defer { device.close() }
            #expect(device.name == "tpdev0")
            let link = try runCommand("/usr/sbin/ip", ["-n", ns.name, "link", "show", device.name])
            #expect(link.contains("mtu 65000") && link.contains("UP"), "ip link says: \(link)")
            let addr = try runCommand("/usr/sbin/ip", ["-n", ns.name, "addr", "show", device.name])
            #expect(addr.contains("10.251.7.1/24"), "ip addr says: \(addr)")
            let routes = try runCommand("/usr/sbin/ip", ["-n", ns.name, "route"])
            #expect(routes.contains("10.96.0.0/12 dev \(device.name)"), "ip route says: \(routes)")
            #expect(routes.contains("10.244.3.0/24 dev \(device.name)"), "ip route says: \(routes)")
            try device.removeRoute(IPv4Address(10, 244, 3, 0), prefixLength: 24)
            #expect(try !runCommand("/usr/sbin/ip", ["-n", ns.name, "route"]).contains("10.244.3.0/24"))
            #expect(throws: TUNDeviceError.self) { try device.addRoute(IPv4Address(10, 96, 0, 0), prefixLength: 12) }
            device.close()
            let after = try runCommand("/usr/sbin/ip", ["-n", ns.name, "-o", "link"])
            #expect(!after.contains(device.name), "ip link says: \(after)")
        }

        @Test func invalidNamesAreRefused() {
            #expect(throws: TUNDeviceError.invalidName("a-name-much-too-long")) { try TUNDevice(name: "a-name-much-too-long") }
            #expect(throws: TUNDeviceError.invalidName("")) { try TUNDevice(name: "") }
        }
    }
}
