import ArgumentParser
import Sandbox
import UnixSignals

/// `sandbox-cluster coredns` (hidden): what the kube-system `coredns` pods run on the process
/// node (the image `registry.k8s.io/coredns/coredns` maps here), until SIGTERM.
struct CoreDNS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coredns",
        abstract: "Serve a coredns pod: DNS forwarded to the node's cluster DNS, /ready and /health (run by the kube-system coredns pods).",
        shouldDisplay: false)

    @Option(name: .customLong("conf", withSingleDash: true), help: "CoreDNS's Corefile (accepted as the real image's arguments give it; the stand-in forwards everything).")
    var corefile: String?

    @Option(help: "The DNS server queries are forwarded to.")
    var upstream: String = ClusterAddresses.clusterDNS

    func run() async throws {
        let termination = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        _ = try CoreDNSStandIn(upstream: upstream)
        print("coredns stand-in: DNS on :53 forwarded to \(upstream), /ready on :8181, /health on :8080")
        for await _ in termination { break }
    }
}
