import Foundation
import KubeClient
import Testing

@Suite struct ServiceTests {
    static let sample = #"""
        {
          "apiVersion": "v1", "kind": "Service",
          "metadata": {
            "creationTimestamp": "2024-05-01T12:00:00Z", "labels": {"app": "web"}, "name": "web",
            "namespace": "default", "resourceVersion": "512", "uid": "7a1c0e55-2d4b-4f86-9c3e-1b2a3c4d5e6f"
          },
          "spec": {
            "clusterIP": "10.96.12.34", "clusterIPs": ["10.96.12.34"],
            "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [
              {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
              {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090},
              {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353, "nodePort": 30053}
            ],
            "selector": {"app": "web"}, "sessionAffinity": "None", "type": "ClusterIP",
            "trafficDistribution": "PreferClose"
          },
          "status": {"loadBalancer": {}}
        }
        """#

    @Test func decodesPortsWithBothTargetPortForms() throws {
        let service = try decode(Service.self, Self.sample)
        let spec = try #require(service.spec)
        #expect(spec.type == "ClusterIP")
        #expect(spec.clusterIP == "10.96.12.34")
        #expect(spec.clusterIPs == ["10.96.12.34"])
        #expect(spec.selector == ["app": "web"])
        #expect(spec.sessionAffinity == "None")
        #expect(spec.ports?.map(\.targetPort) == [.string("http"), .int(9090), .int(5353)])
        #expect(spec.ports?[2].protocol == "UDP")
        #expect(spec.ports?[2].nodePort == 30053)
        #expect(service.status?.loadBalancer == LoadBalancerStatus())
    }

    @Test func roundTripDropsOnlyUnmodeledFields() throws {
        #expect(try roundTrip(Service.self, Self.sample).differences == ["-/spec/trafficDistribution"])
    }

    @Test func externalNameService() throws {
        let service = try decode(
            Service.self,
            #"{"metadata":{"name":"db"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}"#)
        #expect(service.spec?.externalName == "db.example.com")
        #expect(service.spec?.ports == nil)
    }
}

@Suite struct EndpointsTests {
    static let sample = #"""
        {
          "apiVersion": "v1", "kind": "Endpoints",
          "metadata": {
            "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2024-05-01T12:35:04Z"},
            "creationTimestamp": "2024-05-01T12:00:00Z", "labels": {"app": "web"}, "name": "web",
            "namespace": "default", "resourceVersion": "48230", "uid": "e1d2c3b4-a5f6-4789-90ab-cdef01234567"
          },
          "subsets": [{
            "addresses": [
              {"ip": "10.244.0.17", "nodeName": "node-1", "targetRef": {"kind": "Pod", "name": "web-7d4b9c8f6d-x2k9p", "namespace": "default", "uid": "5f0c2a8e-1b7d-4c3e-8f9a-0d1e2f3a4b5c"}},
              {"hostname": "web-1", "ip": "10.244.0.18", "nodeName": "node-1", "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "default", "uid": "6a1b2c3d-4e5f-6789-0abc-def012345678"}}
            ],
            "notReadyAddresses": [{"ip": "10.244.0.19", "nodeName": "node-1", "targetRef": {"kind": "Pod", "name": "web-2", "namespace": "default"}}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "metrics", "port": 9090, "protocol": "TCP"}]
          }]
        }
        """#

    @Test func decodesReadyAndNotReadyAddresses() throws {
        let endpoints = try decode(Endpoints.self, Self.sample)
        let subset = try #require(endpoints.subsets?.first)
        #expect(subset.addresses?.map(\.ip) == ["10.244.0.17", "10.244.0.18"])
        #expect(subset.addresses?[1].hostname == "web-1")
        #expect(subset.addresses?[0].targetRef?.name == "web-7d4b9c8f6d-x2k9p")
        #expect(subset.notReadyAddresses?.first?.ip == "10.244.0.19")
        #expect(subset.ports?.map(\.port) == [8080, 9090])
        #expect(Endpoints.plural == "endpoints")
    }

    @Test func roundTripIsLossless() throws {
        #expect(try roundTrip(Endpoints.self, Self.sample).differences == [])
    }
}
