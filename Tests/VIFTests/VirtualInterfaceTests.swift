import Foundation
import Glibc
import NIOCore
import NIOPosix
import NetStack
import TestSupport
import Testing
@testable import VIF
import NetworkAddress

extension NetworkTests {
    /// The device and routes of a session, in a throwaway namespace standing for the workstation.
    @Suite(.serialized) struct VirtualInterfaceTests {
        func configuration(_ subnets: String...) -> VirtualInterface.Configuration {
            var configuration = VirtualInterface.Configuration()
            configuration.clusterSubnets = subnets.compactMap { IPSubnet($0) }
            return configuration
        }

        func routes(in namespace: NetworkNamespace) throws -> [String] {
            try runCommand("/usr/sbin/ip", ["-n", namespace.name, "-4", "route", "show"])
                .split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }
        }

        @Test func routesTheClusterAndRemovesEverythingOnStop() throws {
            try HostRequirement.kernelNetwork.require()
            let namespace = try NetworkNamespace()
            defer { namespace.delete() }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            defer { try? group.syncShutdownGracefully() }
            var settings = configuration("10.96.0.0/16", "10.244.0.0/16")
            settings.keepLocal = [.v4(IPv4Address(10, 244, 0, 1))]
            let config = settings
            let network = try namespace.run { try VirtualInterface(configuration: config, eventLoop: group.next()) }
            let table = try routes(in: namespace)
            #expect(table.contains { $0.hasPrefix("10.96.0.0/16 dev tel0") })
            #expect(!table.contains { $0.hasPrefix("10.244.0.0/16") }, "the kept-local address splits the pod subnet")
            #expect(table.contains { $0.hasPrefix("10.244.128.0/17 dev tel0") })

            // More pod subnets arrive: only the difference changes.
            try namespace.run { try network.update(clusterSubnets: [IPSubnet("10.96.0.0/16")!, IPSubnet("10.245.0.0/16")!]) }
            let updated = try routes(in: namespace)
            #expect(updated.contains { $0.hasPrefix("10.245.0.0/16 dev tel0") })
            #expect(!updated.contains { $0.hasPrefix("10.244.") })

            network.stop()
            #expect(try routes(in: namespace).filter { $0.contains("tel0") }.isEmpty)
            #expect(!(try runCommand("/usr/sbin/ip", ["-n", namespace.name, "link", "show"])).contains("tel0"))
        }

        @Test func aConflictingLocalRouteIsRefusedWithItsName() throws {
            try HostRequirement.kernelNetwork.require()
            let namespace = try NetworkNamespace()
            defer { namespace.delete() }
            // No dummy driver on this kernel: a veth pair stands for a lab network's interface.
            try runCommand("/usr/sbin/ip", ["-n", namespace.name, "link", "add", "lab0", "type", "veth", "peer", "name", "lab1"])
            try runCommand("/usr/sbin/ip", ["-n", namespace.name, "link", "set", "lab0", "up"])
            try runCommand("/usr/sbin/ip", ["-n", namespace.name, "link", "set", "lab1", "up"])
            try runCommand("/usr/sbin/ip", ["-n", namespace.name, "route", "add", "10.96.5.0/24", "dev", "lab0"])
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            defer { try? group.syncShutdownGracefully() }
            let config = configuration("10.96.0.0/16")
            #expect {
                _ = try namespace.run { try VirtualInterface(configuration: config, eventLoop: group.next()) }
            } throws: { error in
                "\(error)".contains("10.96.5.0/24 dev lab0") && "\(error)".contains("--allow-conflicting-subnets")
            }
            // Nothing was created for the refused session.
            #expect(!(try runCommand("/usr/sbin/ip", ["-n", namespace.name, "link", "show"])).contains("tel0"))
            // Allowed explicitly, it connects.
            var allowing = config
            allowing.allowConflicting = [IPSubnet("10.96.5.0/24")!]
            let allowed = allowing
            let network = try namespace.run { try VirtualInterface(configuration: allowed, eventLoop: group.next()) }
            network.stop()
        }
    }
}
