import Foundation
import KubeClient
import Testing

@Suite struct NamespaceTests {
    static let sample = #"""
        {
          "apiVersion": "v1", "kind": "Namespace",
          "metadata": {
            "creationTimestamp": "2024-05-01T11:00:00Z",
            "labels": {"kubernetes.io/metadata.name": "ambassador"}, "name": "ambassador",
            "resourceVersion": "300", "uid": "0a0b0c0d-1111-2222-3333-444455556666"
          },
          "spec": {"finalizers": ["kubernetes"]},
          "status": {"phase": "Active"}
        }
        """#

    @Test func decodesAndRoundTrips() throws {
        let result = try roundTrip(Namespace.self, Self.sample)
        #expect(result.value.metadata.name == "ambassador")
        #expect(result.value.spec?.finalizers == ["kubernetes"])
        #expect(result.value.status?.phase == "Active")
        #expect(result.differences == [])
        #expect(!Namespace.namespaced)
    }

    @Test func missingMetadataDecodesAsEmpty() throws {
        let namespace = try decode(Namespace.self, #"{"apiVersion":"v1","kind":"Namespace"}"#)
        #expect(namespace.metadata == ObjectMeta())
    }
}

@Suite struct NodeTests {
    static let sample = #"""
        {
          "apiVersion": "v1", "kind": "Node",
          "metadata": {
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            "creationTimestamp": "2024-04-30T08:00:00Z",
            "labels": {"kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux"},
            "name": "node-1", "resourceVersion": "48100", "uid": "9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9"
          },
          "spec": {
            "podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24", "fd00:10:244::/64"],
            "providerID": "kind://docker/kind/node-1",
            "taints": [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
          },
          "status": {
            "addresses": [{"address": "172.18.0.2", "type": "InternalIP"}, {"address": "node-1", "type": "Hostname"}],
            "allocatable": {"cpu": "8", "memory": "16318412Ki", "pods": "110"},
            "capacity": {"cpu": "8", "memory": "16420812Ki", "pods": "110"},
            "conditions": [
              {"lastHeartbeatTime": "2024-05-01T12:35:00Z", "lastTransitionTime": "2024-04-30T08:00:30Z", "message": "kubelet has sufficient memory available", "reason": "KubeletHasSufficientMemory", "status": "False", "type": "MemoryPressure"},
              {"lastHeartbeatTime": "2024-05-01T12:35:00Z", "lastTransitionTime": "2024-04-30T08:01:00Z", "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True", "type": "Ready"}
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": [{"names": ["registry.k8s.io/pause:3.9"], "sizeBytes": 321520}],
            "nodeInfo": {
              "architecture": "amd64", "bootID": "b1", "containerRuntimeVersion": "containerd://1.7.15",
              "kernelVersion": "6.8.0", "kubeProxyVersion": "v1.30.0", "kubeletVersion": "v1.30.0",
              "machineID": "m1", "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)", "systemUUID": "s1"
            },
            "runtimeHandlers": [{"features": {"recursiveReadOnlyMounts": true}, "name": "runc"}]
          }
        }
        """#

    @Test func decodesCIDRsAddressesAndConditions() throws {
        let result = try roundTrip(Node.self, Self.sample)
        let node = result.value
        #expect(node.spec?.podCIDR == "10.244.0.0/24")
        #expect(node.spec?.podCIDRs == ["10.244.0.0/24", "fd00:10:244::/64"])
        #expect(node.spec?.taints?.first?.effect == "NoSchedule")
        #expect(node.status?.addresses?.first { $0.type == "InternalIP" }?.address == "172.18.0.2")
        #expect(node.status?.conditions?.first(type: "Ready")?.isTrue == true)
        #expect(node.status?.conditions?.first(type: "Ready")?.lastHeartbeatTime?.rfc3339 == "2024-05-01T12:35:00Z")
        #expect(node.status?.allocatable?["pods"] == "110")
        #expect(node.status?.nodeInfo?.kubeletVersion == "v1.30.0")
        #expect(result.differences == ["-/status/runtimeHandlers"])
        #expect(!Node.namespaced && Node.plural == "nodes")
    }
}

@Suite struct ServiceAccountTests {
    @Test func decodesAndRoundTrips() throws {
        let json = #"""
            {"apiVersion":"v1","kind":"ServiceAccount",
             "automountServiceAccountToken":false,
             "imagePullSecrets":[{"name":"registry"}],
             "metadata":{"creationTimestamp":"2024-05-01T12:00:00Z","name":"traffic-manager","namespace":"ambassador",
                         "resourceVersion":"900","uid":"5a5a5a5a-0000-1111-2222-333344445555"},
             "secrets":[{"name":"traffic-manager-token-abcde"}]}
            """#
        let result = try roundTrip(ServiceAccount.self, json)
        #expect(result.value.secrets?.first?.name == "traffic-manager-token-abcde")
        #expect(result.value.imagePullSecrets == [LocalObjectReference(name: "registry")])
        #expect(result.value.automountServiceAccountToken == false)
        #expect(result.differences == [])
        #expect(ServiceAccount.plural == "serviceaccounts")
    }
}

@Suite struct EventTests {
    static let sample = #"""
        {
          "apiVersion": "v1", "kind": "Event",
          "action": "Pulling",
          "count": 3,
          "eventTime": "2024-05-01T12:34:57.123456Z",
          "firstTimestamp": "2024-05-01T12:34:57Z",
          "involvedObject": {
            "apiVersion": "v1", "fieldPath": "spec.containers{web}", "kind": "Pod",
            "name": "web-7d4b9c8f6d-x2k9p", "namespace": "default", "resourceVersion": "48200",
            "uid": "5f0c2a8e-1b7d-4c3e-8f9a-0d1e2f3a4b5c"
          },
          "lastTimestamp": "2024-05-01T12:36:01Z",
          "message": "Back-off pulling image \"ghcr.io/example/web:1.4.3\"",
          "metadata": {
            "creationTimestamp": "2024-05-01T12:34:57Z", "name": "web-7d4b9c8f6d-x2k9p.17c8a1b2c3d4e5f6",
            "namespace": "default", "resourceVersion": "48250", "uid": "ee00ee00-1234-5678-9abc-def012345678"
          },
          "reason": "BackOff",
          "reportingComponent": "kubelet",
          "reportingInstance": "node-1",
          "series": {"count": 2, "lastObservedTime": "2024-05-01T12:36:01.654321Z"},
          "source": {"component": "kubelet", "host": "node-1"},
          "type": "Warning"
        }
        """#

    @Test func decodesBothTimestampKindsAndRoundTripsTheirBytes() throws {
        let result = try roundTrip(Event.self, Self.sample)
        let event = result.value
        #expect(event.involvedObject.kind == "Pod")
        #expect(event.involvedObject.fieldPath == "spec.containers{web}")
        #expect(event.reason == "BackOff")
        #expect(event.type == "Warning")
        #expect(event.count == 3)
        #expect(event.eventTime?.microseconds == 123_456)
        #expect(event.lastTimestamp?.rfc3339 == "2024-05-01T12:36:01Z")
        #expect(event.source?.host == "node-1")
        #expect(event.series?.lastObservedTime?.rfc3339 == "2024-05-01T12:36:01.654321Z")
        #expect(result.differences == [])
    }

    @Test func anEventWithNullEventTimeDecodes() throws {
        let event = try decode(
            Event.self, #"{"metadata":{"name":"e"},"involvedObject":{"kind":"Pod","name":"p"},"eventTime":null}"#)
        #expect(event.eventTime == nil)
    }
}

@Suite struct ScaleTests {
    @Test func decodesTheScaleSubresource() throws {
        let json = #"""
            {"apiVersion":"autoscaling/v1","kind":"Scale",
             "metadata":{"creationTimestamp":"2024-05-01T12:00:00Z","name":"web","namespace":"default",
                         "resourceVersion":"48300","uid":"0b8e8e0c-3f5e-4a8e-9d0a-6f1a2b3c4d5f"},
             "spec":{"replicas":3},
             "status":{"replicas":2,"selector":"app=web"}}
            """#
        let result = try roundTrip(Scale.self, json)
        #expect(result.value.spec?.replicas == 3)
        #expect(result.value.status?.selector == "app=web")
        #expect(result.differences == [])
        #expect(Scale().apiVersion == "autoscaling/v1" && Scale().kind == "Scale")
    }
}
