import DNS
import Foundation
import KubeClient
import NetworkAddress
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode
import Testing

/// The service rules and the cluster DNS answers as pure functions of the store: no sockets,
/// no root.
@Suite("Cluster network: rules and DNS answers")
struct ServiceRulesTests {
    func store(_ objects: [(ResourceType, JSONValue)]) throws -> ObjectStore {
        let store = ObjectStore()
        for (type, value) in objects { try store.create(type, value) }
        return store
    }

    func service(_ name: String, _ ip: String, ports: [JSONValue], namespace: String = "default") -> (ResourceType, JSONValue) {
        (ResourceCatalog.services, ["metadata": ["name": .string(name), "namespace": .string(namespace)],
                                    "spec": ["clusterIP": .string(ip), "ports": .array(ports)]])
    }

    /// The service's EndpointSlice, as the controller writes it: ready and not-ready endpoints.
    func endpoints(_ name: String, ready: [String], notReady: [String] = [], ports: [JSONValue], hostnames: [String: String] = [:]) -> (ResourceType, JSONValue) {
        func endpoint(_ ip: String, ready: Bool) -> JSONValue {
            var endpoint: JSONValue = ["addresses": [.string(ip)], "conditions": ["ready": .bool(ready), "serving": .bool(ready), "terminating": false]]
            if let host = hostnames[ip] { endpoint["hostname"] = .string(host) }
            return endpoint
        }
        return (ResourceCatalog.endpointSlices, [
            "metadata": ["name": .string("\(name)-x7k2q"), "namespace": "default", "labels": ["kubernetes.io/service-name": .string(name)]],
            "addressType": "IPv4",
            "endpoints": .array(ready.map { endpoint($0, ready: true) } + notReady.map { endpoint($0, ready: false) }),
            "ports": .array(ports),
        ])
    }

    func rules(_ store: ObjectStore) -> ServiceRules {
        ServiceRules(services: store.list(ResourceCatalog.services, namespace: nil).items.map(\.object),
                     endpointSlices: store.list(ResourceCatalog.endpointSlices, namespace: nil).items.map(\.object))
    }

    @Test("ports lead to ready endpoints at the port the EndpointSlice resolved, by name and protocol")
    func namedPorts() throws {
        let store = try store([
            service("web", "10.96.1.1", ports: [["name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"],
                                                ["name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"]]),
            endpoints("web", ready: ["10.244.0.5", "10.244.0.6"], notReady: ["10.244.0.9"],
                      ports: [["name": "http", "port": 8080, "protocol": "TCP"], ["name": "dns", "port": 5353, "protocol": "UDP"]]),
        ])
        let rules = rules(store).rules
        #expect(rules == [
            .init(clusterIP: "10.96.1.1", proto: "tcp", port: 80, endpoints: [.init(ip: "10.244.0.5", port: 8080), .init(ip: "10.244.0.6", port: 8080)]),
            .init(clusterIP: "10.96.1.1", proto: "udp", port: 53, endpoints: [.init(ip: "10.244.0.5", port: 5353), .init(ip: "10.244.0.6", port: 5353)]),
        ])
        let script = self.rules(store).script
        #expect(script.contains("ip daddr 10.96.1.1 tcp dport 80 dnat ip to numgen random mod 2 map { 0 : 10.244.0.5 . 8080, 1 : 10.244.0.6 . 8080 }"))
        #expect(script.contains("elements = { 10.244.0.5 . 10.244.0.5, 10.244.0.6 . 10.244.0.6 }"))
        #expect(!script.contains("10.244.0.9"))
    }

    @Test("headless, ExternalName and the cluster DNS get no DNAT; a port without endpoints rejects")
    func specialServices() throws {
        let store = try store([
            service("db", "None", ports: [["port": 5432]]),
            service("dns", ClusterAddresses.clusterDNS, ports: [["name": "dns", "port": 53, "protocol": "UDP"]]),
            service("empty", "10.96.2.2", ports: [["port": 80]]),
        ])
        let rules = rules(store)
        #expect(rules.rules == [.init(clusterIP: "10.96.2.2", proto: "tcp", port: 80, endpoints: [])])
        #expect(rules.script.contains("elements = { 10.96.2.2 . tcp . 80 }"))
        #expect(rules.script.contains("iifname \"wslink*\" ip daddr { 10.244.0.0/16, 10.96.0.0/16 } drop"))
        #expect(!rules.script.contains("dnat ip to"))
    }

    func ask(_ zone: ClusterDNS, _ name: String, _ type: DNSRecordType = .a) throws -> DNSMessage {
        let query = DNSMessage(header: DNSHeader(id: 7, recursionDesired: true), questions: [DNSQuestion(name: try DNSName(name), type: type)])
        return zone.respond(to: query)
    }

    @Test("cluster DNS answers services, headless endpoints, SRV, pods and PTR from the store")
    func dnsAnswers() throws {
        let store = try store([
            (ResourceCatalog.namespaces, ["metadata": ["name": "default"]]),
            service("web", "10.96.1.1", ports: [["name": "http", "port": 80, "protocol": "TCP"]]),
            service("db", "None", ports: [["name": "pg", "port": 5432, "protocol": "TCP"]]),
            endpoints("db", ready: ["10.244.0.7", "10.244.0.8"], notReady: ["10.244.0.9"],
                      ports: [["name": "pg", "port": 5432, "protocol": "TCP"]], hostnames: ["10.244.0.7": "db-0"]),
            (ResourceCatalog.pods, ["metadata": ["name": "p", "namespace": "default"], "status": ["podIP": "10.244.0.8"]]),
        ])
        let zone = ClusterDNS(store: store)
        #expect(try ask(zone, "web.default.svc.cluster.local").answers.map(\.data) == [.a(IPv4Address(10, 96, 1, 1))])
        #expect(try ask(zone, "WEB.Default.svc.cluster.local.").answers.count == 1)
        #expect(try ask(zone, "db.default.svc.cluster.local").answers.map(\.data) == [.a(IPv4Address(10, 244, 0, 7)), .a(IPv4Address(10, 244, 0, 8))])
        #expect(try ask(zone, "db-0.db.default.svc.cluster.local").answers.map(\.data) == [.a(IPv4Address(10, 244, 0, 7))])
        #expect(try ask(zone, "10-244-0-8.db.default.svc.cluster.local").answers.count == 1)
        #expect(try ask(zone, "10-244-0-9.db.default.svc.cluster.local").header.rcode == DNSResponseCode.nameError.rawValue)

        let srv = try ask(zone, "_pg._tcp.db.default.svc.cluster.local", .srv)
        #expect(srv.answers.map(\.data) == [
            .srv(priority: 0, weight: 100, port: 5432, target: try DNSName("db-0.db.default.svc.cluster.local")),
            .srv(priority: 0, weight: 100, port: 5432, target: try DNSName("10-244-0-8.db.default.svc.cluster.local")),
        ])
        #expect(srv.additionals.count == 2)
        #expect(try ask(zone, "_http._tcp.web.default.svc.cluster.local", .srv).answers.count == 1)
        #expect(try ask(zone, "_nope._tcp.web.default.svc.cluster.local", .srv).header.rcode == DNSResponseCode.nameError.rawValue)

        #expect(try ask(zone, "10-1-2-3.default.pod.cluster.local").answers.map(\.data) == [.a(IPv4Address(10, 1, 2, 3))])
        #expect(try ask(zone, "1.1.96.10.in-addr.arpa", .ptr).answers.map(\.data) == [.ptr(try DNSName("web.default.svc.cluster.local"))])
        #expect(try ask(zone, "8.0.244.10.in-addr.arpa", .ptr).answers.map(\.data) == [.ptr(try DNSName("10-244-0-8.default.pod.cluster.local"))])

        let aaaa = try ask(zone, "web.default.svc.cluster.local", .aaaa)
        #expect(aaaa.header.rcode == 0 && aaaa.answers.isEmpty && aaaa.authorities.first?.type == .soa)
        #expect(try ask(zone, "nothing.default.svc.cluster.local").header.rcode == DNSResponseCode.nameError.rawValue)
        #expect(try ask(zone, "example.com").header.rcode == DNSResponseCode.nameError.rawValue)
        #expect(try ask(zone, "web.default.svc.cluster.local").header.isAuthoritative)
    }

    @Test("the outside-world resolver knows outside.test and nothing else")
    func outsideWorld() throws {
        let zone = OutsideWorldDNS()
        let query = { (name: String) in
            zone.respond(to: DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: try DNSName(name), type: .a)]))
        }
        #expect(try query("outside.test").answers.map(\.data) == [.a(IPv4Address(192, 0, 2, 1))])
        #expect(try query("kubernetes.default.svc.cluster.local").header.rcode == DNSResponseCode.nameError.rawValue)
    }
}
