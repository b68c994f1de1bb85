import Foundation
import Glibc
import LinuxNet
import NIOCore
import NIOPosix
import NetStack
import TestSupport
import Testing
import Tunnel
@testable import VIF
import NetworkAddress

extension NetworkTests {
    /// Split DNS against a real systemd-resolved (see `PrivateResolved`): the workstation's
    /// namespace has an "uplink" link whose DNS server answers everything with 203.0.113.7, and
    /// tel0 (198.18.0.1) whose server answers with 10.96.0.99.
    @Suite(.serialized, .enabled(where: .privateResolved))
    struct ResolvedSplitDNSTests {
        static let ours = "10.96.0.99"
        static let outside = "203.0.113.7"

        /// What a test gets: the namespace with both links and servers, and resolved.
        final class World: Sendable {
            let namespace: NetworkNamespace
            let group: MultiThreadedEventLoopGroup
            let tel0: LockedBox<TUNDevice?>
            let uplink: TUNDevice
            let ourServer: RecordingDNSServer
            let uplinkServer: RecordingDNSServer
            let resolved: PrivateResolved

            init(namespace: NetworkNamespace, group: MultiThreadedEventLoopGroup, tel0: TUNDevice, uplink: TUNDevice,
                 ourServer: RecordingDNSServer, uplinkServer: RecordingDNSServer, resolved: PrivateResolved) {
                self.namespace = namespace
                self.group = group
                self.tel0 = LockedBox(tel0)
                self.uplink = uplink
                self.ourServer = ourServer
                self.uplinkServer = uplinkServer
                self.resolved = resolved
            }

            func linkIndex(_ name: String) throws -> Int32 {
                try namespace.run { Int32(if_nametoindex(name)) }
            }

            /// resolved's answer for `name` (no cache), and which link it came from.
            func query(_ name: String) async throws -> ProcessRunner.Output {
                try await resolved.resolvectl(["query", "--cache=no", name])
            }
        }

        /// Builds the world, runs `body`, and removes every process, device, socket, mount and the
        /// namespace, also when `body` fails; then asserts nothing of it is left.
        static func withWorld(_ body: (World) async throws -> Void) async throws {
            try HostRequirement.kernelNetwork.require()
            try HostRequirement.privateResolved.require()
            let namespace = try NetworkNamespace()
            var cleanups: [() async -> Void] = []
            func cleanUp() async { for cleanup in cleanups.reversed() { await cleanup() } }
            do {
                let group = try namespace.run { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
                cleanups.append { try? await group.shutdownGracefully() }
                let (tel0, uplink) = try namespace.run { () throws -> (TUNDevice, TUNDevice) in
                    let tel0 = try TUNDevice(name: "tel0")
                    let uplink = try TUNDevice(name: "uplink0")
                    try tel0.setAddress(IPv4Address(198, 18, 0, 1), prefixLength: 32)
                    try tel0.bringUp()
                    try uplink.setAddress(IPv4Address(192, 0, 2, 53), prefixLength: 24)
                    try uplink.bringUp()
                    return (tel0, uplink)
                }
                let servers = try namespace.run {
                    (try RecordingDNSServer(host: "198.18.0.1", answer: ours, group: group),
                     try RecordingDNSServer(host: "192.0.2.53", answer: outside, group: group))
                }
                let resolved = try PrivateResolved(in: namespace)
                let world = World(namespace: namespace, group: group, tel0: tel0, uplink: uplink,
                                  ourServer: servers.0, uplinkServer: servers.1, resolved: resolved)
                cleanups.append {
                    await resolved.stop()
                    servers.0.close()
                    servers.1.close()
                    world.tel0.withLock { $0?.close(); $0 = nil }
                    uplink.close()
                }
                try await resolved.waitUntilReady()
                // The uplink: the machine's own DNS, default route for every name.
                do {
                    try await ResolvedSplitDNS.busctl(ResolvedCall.setLinkDNS(try world.linkIndex("uplink0"), servers: [[192, 0, 2, 53]]).busctlArguments,
                                                      resolved.busAddress, .seconds(10)).check()
                } catch {
                    throw NamespaceError("\(error) \(resolved.logs())")
                }
                try await body(world)
                await cleanUp()
                // Nothing is left: no process in the namespace (resolved, the bus, the holder).
                let pids = try runCommand("/usr/sbin/ip", ["netns", "pids", namespace.name])
                #expect(pids.isEmpty, "processes left in the namespace: \(pids)")
                namespace.delete()
            } catch {
                await cleanUp()
                namespace.delete()
                throw error
            }
            #expect(try !runCommand("/usr/sbin/ip", ["netns", "list"]).contains(namespace.name))
        }

        @Test func clusterNamesReachOurServerAndOtherNamesDoNot() async throws {
            try await Self.withWorld { world in
                let link = ResolvedSplitDNS(systemBusAddress: world.resolved.busAddress)
                let plan = SplitDNSPlan(linkIndex: try world.linkIndex("tel0"), dnsServer: [198, 18, 0, 1],
                                        clusterDomain: "cluster.local", namespaces: ["default", "ns1"])
                let clock = ContinuousClock()
                let applyTime = try await clock.measure { try await link.apply(plan) }

                // Detection sees resolved in charge (resolv.conf links to its stub, its name is owned).
                let probeStart = clock.now
                let mode = await SystemResolverMode.probe(resolvConfPath: world.resolved.path("/etc/resolv.conf"),
                                                          systemBusAddress: world.resolved.busAddress)
                let probeTime = clock.now - probeStart
                #expect(mode == .resolvedSplitDNS)

                let status = try await world.resolved.resolvectl(["status", "tel0"])
                #expect(status.stdout.contains("-DefaultRoute"), "\(status.combined)")
                #expect(status.stdout.contains("DNS Servers: 198.18.0.1"), "\(status.combined)")
                #expect(status.stdout.contains("~cluster.local") && status.stdout.contains("~ns1") && status.stdout.contains("tel2-search"),
                        "\(status.combined)")

                // Bare names (through tel2-search), svc.ns, svc.ns.svc and fully qualified names
                // reach us.
                for (name, asked) in [("web", "web.tel2-search"), ("web.ns1", "web.ns1"), ("web.ns1.svc", "web.ns1.svc"),
                                      ("web.default.svc.cluster.local", "web.default.svc.cluster.local")] {
                    world.ourServer.reset()
                    let answer = try await world.query(name)
                    #expect(answer.stdout.contains("10.96.0.99") && answer.stdout.contains("link: tel0"), "\(name): \(answer.combined)")
                    #expect(world.ourServer.names.contains(asked), "\(name): our server saw \(world.ourServer.names)")
                }
                // Another name goes to the uplink and never to us.
                world.ourServer.reset()
                world.uplinkServer.reset()
                let outside = try await world.query("example.org")
                #expect(outside.stdout.contains("203.0.113.7") && outside.stdout.contains("link: uplink0"), "\(outside.combined)")
                #expect(world.uplinkServer.names.contains("example.org"))
                #expect(!world.ourServer.names.contains("example.org"), "our server saw \(world.ourServer.names)")

                // The glibc resolver through the stub 127.0.0.53 (getent reads the namespace's
                // /etc/resolv.conf, resolved's stub file with `search tel2-search`): getaddrinfo,
                // what programs call, for every form; gethostbyname for the dotted ones (for a
                // bare name it first asks AAAA of every candidate, including the single label,
                // which resolved sends to LLMNR on the machine's other links: ~6 s, not ours).
                for name in ["web", "web.ns1", "web.default.svc.cluster.local"] {
                    let started = clock.now
                    let hosts = try await world.resolved.inside(["getent", "ahosts", name])
                    let took = clock.now - started
                    #expect(hosts.stdout.hasPrefix("10.96.0.99"), "getent ahosts \(name): \(hosts.combined)")
                    // A figure, not an assertion (a busy machine decides it); several seconds
                    // would mean a detour through LLMNR.
                    print("split DNS figures: getent ahosts \(name) took \(took)")
                    if name.contains(".") {
                        let byName = try await world.resolved.inside(["getent", "hosts", name])
                        #expect(byName.stdout.hasPrefix("10.96.0.99"), "getent hosts \(name): \(byName.combined)")
                    }
                }
                let outsideHosts = try await world.resolved.inside(["getent", "hosts", "example.org"])
                #expect(outsideHosts.stdout.hasPrefix("203.0.113.7"), "\(outsideHosts.combined)")

                // Namespaces change: ns2 comes, ns1 goes.
                let updateTime = try await clock.measure {
                    try await link.apply(SplitDNSPlan(linkIndex: plan.linkIndex, dnsServer: plan.dnsServer,
                                                      clusterDomain: "cluster.local", namespaces: ["default", "ns2"]))
                }
                let ns2 = try await world.query("web.ns2")
                #expect(ns2.stdout.contains("10.96.0.99"), "\(ns2.combined)")
                let ns1 = try await world.query("web.ns1")
                #expect(ns1.stdout.contains("203.0.113.7"), "web.ns1 after ns1 went: \(ns1.combined)")

                // Revert: the link has no DNS left and names go to the uplink (a `.local` name
                // would now go to mDNS only: resolved's rule without a routing domain).
                let revertTime = try await clock.measure { try await link.revert() }
                print("split DNS figures: probe \(probeTime), apply (6 busctl calls) \(applyTime), namespace update (1 call) \(updateTime), revert \(revertTime)")
                let reverted = try await world.resolved.resolvectl(["status", "tel0"])
                #expect(reverted.status == 0 && !reverted.stdout.contains("198.18.0.1") && !reverted.stdout.contains("cluster.local"),
                        "\(reverted.combined)")
                world.ourServer.reset()
                let after = try await world.query("web.ns2")
                #expect(after.stdout.contains("203.0.113.7"), "\(after.combined)")
                #expect(world.ourServer.names.isEmpty, "our server saw \(world.ourServer.names)")
            }
        }

        @Test func aCrashedDaemonsLinkIsForgottenWithItsDevice() async throws {
            try await Self.withWorld { world in
                let link = ResolvedSplitDNS(systemBusAddress: world.resolved.busAddress)
                try await link.apply(SplitDNSPlan(linkIndex: try world.linkIndex("tel0"), dnsServer: [198, 18, 0, 1],
                                                  clusterDomain: "cluster.local", namespaces: ["default"]))
                #expect(try await world.query("web.default").stdout.contains("10.96.0.99"))
                // The process dies: its TUN descriptor closes and the kernel removes the device.
                world.tel0.withLock { $0?.close(); $0 = nil }
                var status = try await world.resolved.resolvectl(["status"])
                try await waitUntil("resolved to forget tel0", pollingEvery: .milliseconds(50)) {
                    status = try await world.resolved.resolvectl(["status"])
                    return !status.stdout.contains("tel0")
                }
                #expect(!status.stdout.contains("198.18.0.1"), "\(status.combined)")
                // The next daemon's device starts clean, and cluster names no longer come to us.
                let fresh = try world.namespace.run { () throws -> TUNDevice in
                    let device = try TUNDevice(name: "tel0")
                    try device.setAddress(IPv4Address(198, 18, 0, 1), prefixLength: 32)
                    try device.bringUp()
                    return device
                }
                world.tel0.withLock { $0 = fresh }
                let freshStatus = try await world.resolved.resolvectl(["status", "tel0"])
                #expect(freshStatus.status == 0 && !freshStatus.stdout.contains("DNS Servers"), "\(freshStatus.combined)")
                world.ourServer.reset()
                #expect(try await world.query("web.default").stdout.contains("203.0.113.7"))
                #expect(world.ourServer.names.isEmpty)
            }
        }

        @Test func workstationDNSChoosesSplitDNSWhenResolvedIsInCharge() async throws {
            try await Self.withWorld { world in
                // Our recording server holds 198.18.0.1:53; WorkstationDNS listens on a second
                // address of tel0.
                try world.namespace.exec(["ip", "addr", "add", "198.18.0.2/32", "dev", "tel0"])
                let backup = world.resolved.folder.appendingPathComponent("resolv.conf.orig").path
                var configuration = WorkstationDNS.Configuration(
                    listenAddress: "198.18.0.2", clusterDNSServer: TunnelEndpoint(address: IPAddress("10.96.0.10")!, port: 53),
                    connectedNamespace: "default", resolvConfBackupPath: backup)
                configuration.namespaces = ["ns1"]
                configuration.deviceName = "tel0"
                configuration.resolvConfPath = world.resolved.path("/etc/resolv.conf")
                configuration.resolvedUplinkResolvConfPath = world.resolved.path("/run/systemd/resolve/resolv.conf")
                configuration.systemBusAddress = world.resolved.busAddress
                let executor = NamespaceExecutor(loop: world.group.next())
                let loop = world.group.next()
                let group = world.group
                let dns = try await withTaskExecutorPreference(executor) {
                    try await WorkstationDNS.start(configuration, eventLoop: loop, group: group) { nil }
                }
                #expect(dns.mode == .resolvedSplitDNS)
                // Upstreams are the servers resolved itself uses, never its stub.
                #expect(dns.original.nameservers == ["192.0.2.53"])
                #expect(dns.server.forwarder.upstreams.map(\.ipAddress) == ["192.0.2.53"])
                // resolv.conf is left alone: still the link to the stub, and no backup made.
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: configuration.resolvConfPath) == "/run/systemd/resolve/stub-resolv.conf")
                #expect(!FileManager.default.fileExists(atPath: backup))
                var status = try await world.resolved.resolvectl(["status", "tel0"])
                #expect(status.stdout.contains("DNS Servers: 198.18.0.2") && status.stdout.contains("~ns1") && status.stdout.contains("-DefaultRoute"),
                        "\(status.combined)")

                configuration.namespaces = ["ns1", "ns2"]
                try await withTaskExecutorPreference(executor) { try await dns.update(configuration) }
                status = try await world.resolved.resolvectl(["status", "tel0"])
                #expect(status.stdout.contains("~ns2"), "\(status.combined)")

                await withTaskExecutorPreference(executor) { await dns.stop() }
                status = try await world.resolved.resolvectl(["status", "tel0"])
                #expect(!status.stdout.contains("198.18.0.2") && !status.stdout.contains("~ns"), "\(status.combined)")
            }
        }
    }
}
