import DNS
import Foundation
import KubeClient
import Logging
import NetworkAddress

/// Finds the cluster's facts at start and keeps the pod subnets current (node podCIDRs, or the
/// subnets covering the pod IPs it watches), publishing every change to its subscribers.
public actor ClusterInfoMonitor {
    private let client: KubeClient
    private let settings: ManagerSettings
    private let logger: Logger
    private var facts: ClusterFacts
    private var subscribers: [UUID: AsyncStream<ClusterFacts>.Continuation] = [:]
    private var podIPs: [String: String] = [:]  // pod uid -> IP, for coverage
    private var ready = false
    private var readyWaiters: [CheckedContinuation<Void, Never>] = []

    public init(client: KubeClient, settings: ManagerSettings, logger: Logger) {
        self.client = client
        self.settings = settings
        self.logger = logger
        self.facts = ClusterFacts(
            managerPodIP: settings.podIP.flatMap { IPAddress($0) }, managerPort: settings.serverPort,
            managedNamespaces: settings.managedNamespaces)
    }

    /// The facts now (after the first discovery finished).
    public var current: ClusterFacts {
        get async {
            await waitUntilReady()
            return facts
        }
    }

    /// The facts now, then every change, until the consumer stops iterating.
    public func updates() async -> AsyncStream<ClusterFacts> {
        await waitUntilReady()
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterFacts.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        subscribers[id] = continuation
        continuation.yield(facts)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        return stream
    }

    private func unsubscribe(_ id: UUID) { subscribers.removeValue(forKey: id) }

    private func waitUntilReady() async {
        if ready { return }
        await withCheckedContinuation { readyWaiters.append($0) }
    }

    private func publish(_ new: ClusterFacts) {
        guard new != facts || !ready else { return }
        facts = new
        if !ready {
            ready = true
            for waiter in readyWaiters { waiter.resume() }
            readyWaiters = []
        }
        logger.info("cluster info: services \(new.serviceSubnet?.description ?? "unknown"), pods \(new.podSubnets.map(\.description).joined(separator: " ")) (\(new.podCIDRStrategy)), domain \(new.clusterDomain), dns \(new.dnsIP?.description ?? "unknown")")
        for continuation in subscribers.values { continuation.yield(new) }
    }

    /// Discovers the facts, then follows the pod subnets until cancelled.
    public func run() async {
        var found = facts
        let resolvConf = ResolvConf(parsing: (try? String(contentsOfFile: settings.resolvConfPath, encoding: .utf8)) ?? "")
        found.serviceSubnet = await probeServiceSubnet()
        found.clusterDomain = settings.clusterDomain ?? resolvConf.kubernetesClusterDomain ?? "cluster.local"
        // A nameserver may carry an IPv6 zone (`%eth0`), which an address in ClusterInfo cannot.
        let podResolver = resolvConf.nameservers.first.flatMap { IPAddress($0.prefix { $0 != "%" }) }
        // A namespaced install may read nothing outside its namespaces (least privilege): no
        // kube-system Service, no nodes. The pod's own resolver is the cluster DNS anyway.
        found.dnsIP = namespaced ? podResolver : await kubeDNSAddress() ?? podResolver

        var strategy = settings.podCIDRStrategy
        if namespaced, strategy == "auto" || strategy == "nodePodCIDRs" {
            if strategy == "nodePodCIDRs" {
                logger.warning("podCIDRStrategy nodePodCIDRs needs to read nodes, which a namespaced install may not; covering the managed namespaces' pod IPs instead")
            }
            strategy = "coverPodIPs"
        }
        switch strategy {
        case "environment":
            found.podSubnets = settings.podCIDRs.compactMap { IPSubnet($0) }
            found.podCIDRStrategy = "environment"
            publish(found)
            return
        case "coverPodIPs":
            break
        default:
            let nodeSubnets = await nodePodSubnets()
            if !nodeSubnets.isEmpty {
                found.podSubnets = nodeSubnets
                found.podCIDRStrategy = "nodes"
                publish(found)
                await followNodes()
                return
            }
            if settings.podCIDRStrategy == "nodePodCIDRs" {
                found.podCIDRStrategy = "nodes"
                publish(found)
                await followNodes()
                return
            }
        }
        found.podCIDRStrategy = "coverage"
        facts.serviceSubnet = found.serviceSubnet
        facts.clusterDomain = found.clusterDomain
        facts.dnsIP = found.dnsIP
        facts.podCIDRStrategy = "coverage"
        await followPods(initial: found)
    }

    /// Whether the install manages only some namespaces (and may read nothing cluster-wide).
    private var namespaced: Bool { !settings.managedNamespaces.isEmpty }

    /// Asks the API server to create a Service with an out-of-range clusterIP (dry run) and reads
    /// the valid range from its refusal.
    private func probeServiceSubnet() async -> IPSubnet? {
        let probe = Service(
            metadata: ObjectMeta(name: "telepresence-service-subnet-probe"),
            spec: ServiceSpec(clusterIP: ServiceSubnetProbe.outOfRangeIP, ports: [ServicePort(port: 80)]))
        do {
            _ = try await client.create(.services, probe, namespace: settings.namespace, options: WriteOptions(dryRun: true))
            logger.warning("the API server accepted clusterIP \(ServiceSubnetProbe.outOfRangeIP); the service subnet is unknown")
        } catch let error as KubeError {
            let text = (error.status?.message ?? "") + " " + (error.status?.details?.causes?.compactMap(\.message).joined(separator: " ") ?? "")
            if let subnet = ServiceSubnetProbe.subnet(fromErrorMessage: text + " \(error)") { return subnet }
            logger.warning("the service subnet could not be found: \(error)")
        } catch {
            logger.warning("the service subnet could not be found: \(error)")
        }
        return nil
    }

    private func kubeDNSAddress() async -> IPAddress? {
        for name in ["kube-dns", "coredns", "rke2-coredns-rke2-coredns"] {
            if let service: Service = try? await client.get(.services, name: name, namespace: "kube-system"),
               let text = service.spec?.clusterIP, let ip = IPAddress(text) {
                return ip
            }
        }
        return nil
    }

    private func nodePodSubnets() async -> [IPSubnet] {
        guard let nodes: KubeList<Node> = try? await client.listAll(.nodes) else { return [] }
        return PodSubnetCoverage.fromNodes(nodes.items.flatMap { node in
            node.spec?.podCIDRs ?? node.spec?.podCIDR.map { [$0] } ?? []
        })
    }

    private func followNodes() async {
        var nodes: [String: [String]] = [:]
        let events = client.watch(.nodes, options: WatchOptions(), as: Node.self)
        do {
            for try await event in events {
                switch event {
                case .added(let node), .modified(let node):
                    nodes[node.metadata.name ?? ""] = node.spec?.podCIDRs ?? node.spec?.podCIDR.map { [$0] } ?? []
                case .deleted(let node):
                    nodes.removeValue(forKey: node.metadata.name ?? "")
                case .relisted(let all, _):
                    nodes = Dictionary(all.map { ($0.metadata.name ?? "", $0.spec?.podCIDRs ?? []) }, uniquingKeysWith: { $1 })
                case .bookmark, .error:
                    continue
                }
                var next = facts
                next.podSubnets = PodSubnetCoverage.fromNodes(nodes.values.flatMap { $0 })
                if !next.podSubnets.isEmpty { publish(next) }
            }
        } catch {
            if !Task.isCancelled { logger.warning("the watch of nodes ended: \(error)") }
        }
    }

    /// Watches the pods (of the managed namespaces, or all) and covers their IPs.
    private func followPods(initial: ClusterFacts) async {
        let namespaces = settings.managedNamespaces.isEmpty ? [KubeClient.allNamespaces] : settings.managedNamespaces
        // Publish once the first listing is in, even when there are no pods yet.
        var first = initial
        for namespace in namespaces {
            if let pods: KubeList<Pod> = try? await client.listAll(.pods, namespace: namespace) {
                for pod in pods.items { record(pod) }
            }
        }
        first.podSubnets = PodSubnetCoverage.cover(podIPs.values)
        publish(first)
        await withTaskGroup(of: Void.self) { group in
            for namespace in namespaces {
                group.addTask { await self.watchPods(namespace: namespace) }
            }
        }
    }

    private func watchPods(namespace: String) async {
        let events = client.watch(.pods, namespace: namespace, options: WatchOptions(), as: Pod.self)
        do {
            for try await event in events {
                switch event {
                case .added(let pod), .modified(let pod): record(pod)
                case .deleted(let pod): podIPs.removeValue(forKey: pod.metadata.uid ?? "")
                case .relisted(let all, _):
                    podIPs = [:]
                    for pod in all { record(pod) }
                case .bookmark, .error: continue
                }
                var next = facts
                next.podSubnets = PodSubnetCoverage.cover(podIPs.values)
                publish(next)
            }
        } catch {
            if !Task.isCancelled { logger.warning("the watch of pods ended: \(error)") }
        }
    }

    private func record(_ pod: Pod) {
        guard let uid = pod.metadata.uid, let ip = pod.status?.podIP, !ip.isEmpty, pod.spec?.hostNetwork != true else { return }
        podIPs[uid] = ip
    }
}
