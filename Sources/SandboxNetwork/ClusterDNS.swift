import DNS
import KubeClient
import NetworkAddress
import SandboxAPIServer

/// The cluster's DNS server logic (what CoreDNS answers in a real cluster), read from the store
/// on every query, without sockets:
/// - `svc.ns.svc.cluster.local`: A with the ClusterIP, or the Ready endpoint addresses of a
///   headless service; CNAME for ExternalName;
/// - `host.svc.ns.svc.cluster.local`: one endpoint of a headless service (its hostname or its
///   dashed address);
/// - `_port._proto.svc.ns.svc.cluster.local`: SRV for a named port (and the A records);
/// - `a-b-c-d.ns.pod.cluster.local`: A a.b.c.d;
/// - PTR for service and pod addresses;
/// - NXDOMAIN for every other name (there is no internet); AAAA is always empty (IPv4 only).
struct ClusterDNS: Sendable {
    let store: ObjectStore
    static let ttl: UInt32 = 5
    static let domain = ClusterAddresses.clusterDomain.split(separator: ".").map(String.init)

    /// The response to a query.
    func respond(to query: DNSMessage) -> DNSMessage {
        var response = query.makeResponse()
        response.header.isAuthoritative = true
        guard query.header.opcode == 0, let question = query.questions.first, query.questions.count == 1 else {
            response.header.rcode = DNSResponseCode.notImplemented.rawValue
            return response
        }
        let labels = question.name.labels.indices.map { question.name.lowercasedLabel($0) }
        guard question.recordClass == .internet, let found = lookup(labels, name: question.name) else {
            response.header.rcode = DNSResponseCode.nameError.rawValue
            response.authorities = inClusterDomain(labels) ? [Self.soa] : []
            return response
        }
        response.answers = found.records.filter { $0.type == question.type || question.type == .any || $0.type == .cname }
        if !response.answers.isEmpty { response.additionals.insert(contentsOf: found.additionals, at: 0) }
        if response.answers.isEmpty { response.authorities = [Self.soa] }
        return response
    }

    /// The records a name has (of every type), nil when the name does not exist.
    private func lookup(_ labels: [String], name: DNSName) -> (records: [ResourceRecord], additionals: [ResourceRecord])? {
        if labels.count == 6, labels.suffix(2) == ["in-addr", "arpa"] {
            let ip = labels.prefix(4).reversed().joined(separator: ".")
            guard let target = reverse(ip) else { return nil }
            return ([record(name, .ptr(target))], [])
        }
        guard inClusterDomain(labels) else { return nil }
        let local = Array(labels.dropLast(Self.domain.count))
        switch (local.last, local.count) {
        case ("svc", 3):
            return service(namespace: local[1], name: local[0], owner: name)
        case ("svc", 4):
            return endpoint(local[0], namespace: local[2], service: local[1], owner: name)
        case ("svc", 5) where local[0].hasPrefix("_") && local[1].hasPrefix("_"):
            return srv(port: String(local[0].dropFirst()), proto: String(local[1].dropFirst()),
                       namespace: local[3], service: local[2], owner: name)
        case ("pod", 3):
            guard let ip = IPv4Address(local[0].replacingOccurrences(of: "-", with: ".")) else { return nil }
            return ([record(name, .a(ip))], [])
        case ("svc", 2), ("pod", 2):
            // A namespace's own domain exists (no records) when the namespace does.
            return store.get(ResourceCatalog.namespaces, namespace: "", name: local[0]) == nil ? nil : ([], [])
        case (_, 0), ("svc", 1), ("pod", 1):
            return ([], [])
        default:
            return nil
        }
    }

    private func service(namespace: String, name: String, owner: DNSName) -> ([ResourceRecord], [ResourceRecord])? {
        guard let service = store.get(ResourceCatalog.services, namespace: namespace, name: name) else { return nil }
        let spec = service.value["spec"]
        if spec?["type"]?.stringValue == "ExternalName", let external = spec?["externalName"]?.stringValue,
           let target = try? DNSName(external) {
            return ([record(owner, .cname(target))], [])
        }
        let clusterIP = spec?["clusterIP"]?.stringValue ?? ""
        if clusterIP == "None" {
            return (readyAddresses(namespace: namespace, service: name).compactMap { ip, _ in
                IPv4Address(ip).map { record(owner, .a($0)) }
            }, [])
        }
        guard let ip = IPv4Address(clusterIP) else { return ([], []) }
        return ([record(owner, .a(ip))], [])
    }

    private func endpoint(_ host: String, namespace: String, service: String, owner: DNSName) -> ([ResourceRecord], [ResourceRecord])? {
        for (ip, hostname) in readyAddresses(namespace: namespace, service: service)
        where hostname == host || ip.replacingOccurrences(of: ".", with: "-") == host {
            return IPv4Address(ip).map { ([record(owner, .a($0))], []) }
        }
        return nil
    }

    private func srv(port: String, proto: String, namespace: String, service name: String, owner: DNSName) -> ([ResourceRecord], [ResourceRecord])? {
        guard let service = store.get(ResourceCatalog.services, namespace: namespace, name: name),
              let spec = (service.value["spec"]?["ports"]?.arrayValue ?? []).first(where: {
                  $0["name"]?.stringValue == port && ($0["protocol"]?.stringValue ?? "TCP").lowercased() == proto
              }), let number = spec["port"]?.intValue
        else { return nil }
        guard let serviceName = try? DNSName("\(name).\(namespace).svc.\(ClusterAddresses.clusterDomain)") else { return nil }
        if service.value["spec"]?["clusterIP"]?.stringValue != "None" {
            let (addresses, _) = self.service(namespace: namespace, name: name, owner: serviceName) ?? ([], [])
            return ([record(owner, .srv(priority: 0, weight: 100, port: UInt16(number), target: serviceName))], addresses)
        }
        // Headless: one SRV per ready endpoint, each with its own name and the endpoint's port.
        var records: [ResourceRecord] = []
        var additionals: [ResourceRecord] = []
        for slice in slices(namespace: namespace, service: name) {
            let target = (slice.value["ports"]?.arrayValue ?? []).first { $0["name"]?.stringValue == port }?["port"]?.intValue ?? number
            for (ip, hostname) in Self.readyAddresses(slice) {
                guard let v4 = IPv4Address(ip) else { continue }
                let host = hostname ?? ip.replacingOccurrences(of: ".", with: "-")
                guard let hostName = try? DNSName(host).appending(serviceName) else { continue }
                records.append(record(owner, .srv(priority: 0, weight: 100, port: UInt16(target), target: hostName)))
                additionals.append(record(hostName, .a(v4)))
            }
        }
        return (records, additionals)
    }

    /// The ready addresses of a service's EndpointSlices (as CoreDNS reads them), with their
    /// hostnames.
    private func readyAddresses(namespace: String, service: String) -> [(ip: String, hostname: String?)] {
        slices(namespace: namespace, service: service).flatMap(Self.readyAddresses)
    }

    private func slices(namespace: String, service: String) -> [StoredObject] {
        store.list(ResourceCatalog.endpointSlices, namespace: namespace).items.map(\.object)
            .filter { $0.labels["kubernetes.io/service-name"] == service }
            .sorted { $0.name < $1.name }
    }

    /// A slice's ready endpoints (an unknown readiness counts as ready).
    private static func readyAddresses(_ slice: StoredObject) -> [(ip: String, hostname: String?)] {
        (slice.value["endpoints"]?.arrayValue ?? []).flatMap { endpoint -> [(ip: String, hostname: String?)] in
            guard endpoint["conditions"]?["ready"]?.boolValue ?? true else { return [] }
            return (endpoint["addresses"]?.arrayValue ?? []).compactMap(\.stringValue).map { ($0, endpoint["hostname"]?.stringValue) }
        }
    }

    /// The name of a service or pod address.
    private func reverse(_ ip: String) -> DNSName? {
        for (_, service) in store.list(ResourceCatalog.services, namespace: nil).items
        where service.value["spec"]?["clusterIP"]?.stringValue == ip {
            return try? DNSName("\(service.name).\(service.namespace).svc.\(ClusterAddresses.clusterDomain)")
        }
        for (_, pod) in store.list(ResourceCatalog.pods, namespace: nil).items
        where pod.value["status"]?["podIP"]?.stringValue == ip {
            return try? DNSName("\(ip.replacingOccurrences(of: ".", with: "-")).\(pod.namespace).pod.\(ClusterAddresses.clusterDomain)")
        }
        return nil
    }

    private func inClusterDomain(_ labels: [String]) -> Bool {
        labels.count >= Self.domain.count && Array(labels.suffix(Self.domain.count)) == Self.domain
    }

    private func record(_ name: DNSName, _ data: RecordData) -> ResourceRecord {
        ResourceRecord(name: name, ttl: Self.ttl, data: data)
    }

    /// The zone's SOA, sent with negative answers so resolvers cache them briefly.
    static let soa = ResourceRecord(
        name: try! DNSName(ClusterAddresses.clusterDomain), ttl: ttl,
        data: .soa(SOAData(
            primaryServer: try! DNSName("ns.dns.\(ClusterAddresses.clusterDomain)"),
            responsibleMailbox: try! DNSName("hostmaster.\(ClusterAddresses.clusterDomain)"),
            serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl)))

    /// The resolv.conf a pod in `namespace` gets (the node writes it; tests use it for their
    /// own pods): the cluster DNS, the cluster search path and ndots 5, as the kubelet does.
    static func podResolvConf(namespace: String) -> String {
        let domain = ClusterAddresses.clusterDomain
        return """
            search \(namespace).svc.\(domain) svc.\(domain) \(domain)
            nameserver \(ClusterAddresses.clusterDNS)
            options ndots:5

            """
    }
}

/// The workstation's "outside world" resolver at 192.0.2.1:53: a few fixed names, NXDOMAIN for
/// the rest. It lets tests show that names outside the cluster still resolve through the
/// workstation's own resolver once Telepresence has taken over cluster names.
struct OutsideWorldDNS: Sendable {
    /// The names it knows.
    static let names: [String: String] = ["outside.test": ClusterAddresses.apiServer, "api.outside.test": ClusterAddresses.apiServer]

    func respond(to query: DNSMessage) -> DNSMessage {
        var response = query.makeResponse()
        response.header.isAuthoritative = true
        guard let question = query.questions.first else {
            response.header.rcode = DNSResponseCode.formatError.rawValue
            return response
        }
        let text = question.name.labels.indices.map { question.name.lowercasedLabel($0) }.joined(separator: ".")
        guard let address = Self.names[text].flatMap(IPv4Address.init) else {
            response.header.rcode = DNSResponseCode.nameError.rawValue
            return response
        }
        if question.type == .a || question.type == .any {
            response.answers = [ResourceRecord(name: question.name, ttl: 60, data: .a(address))]
        }
        return response
    }
}
