import Foundation
import KubeClient
import Testing

@Suite struct MutatingWebhookConfigurationTests {
    static let pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

    static var sample: String {
        #"""
        {
          "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
          "metadata": {
            "creationTimestamp": "2024-05-01T12:00:00Z", "generation": 1, "name": "agent-injector-webhook-ambassador",
            "resourceVersion": "1200", "uid": "ab12cd34-ef56-7890-ab12-cd34ef567890"
          },
          "webhooks": [{
            "admissionReviewVersions": ["v1"],
            "clientConfig": {
              "caBundle": "\#(Data(pem.utf8).base64EncodedString())",
              "service": {"name": "agent-injector", "namespace": "ambassador", "path": "/traffic-agent", "port": 443}
            },
            "failurePolicy": "Ignore",
            "matchPolicy": "Equivalent",
            "name": "agent-injector-ambassador.getambassador.io",
            "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]},
            "objectSelector": {},
            "reinvocationPolicy": "IfNeeded",
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "DELETE"], "resources": ["pods"], "scope": "*"}],
            "sideEffects": "None",
            "timeoutSeconds": 5
          }, {
            "admissionReviewVersions": ["v1", "v1beta1"],
            "clientConfig": {"url": "https://203.0.113.5:8443/mutate"},
            "name": "external.example.com",
            "sideEffects": "NoneOnDryRun"
          }]
        }
        """#
    }

    @Test func decodesServiceAndURLClientConfigs() throws {
        let configuration = try decode(MutatingWebhookConfiguration.self, Self.sample)
        let webhooks = try #require(configuration.webhooks)
        let injector = webhooks[0]
        #expect(injector.name == "agent-injector-ambassador.getambassador.io")
        #expect(injector.clientConfig.caBundle == Data(Self.pem.utf8))
        #expect(injector.clientConfig.service?.namespace == "ambassador")
        #expect(injector.clientConfig.service?.path == "/traffic-agent")
        #expect(injector.clientConfig.service?.port == 443)
        #expect(injector.rules?.first?.operations == ["CREATE", "DELETE"])
        #expect(injector.rules?.first?.apiGroups == [""])
        #expect(injector.failurePolicy == "Ignore")
        #expect(injector.sideEffects == "None")
        #expect(injector.admissionReviewVersions == ["v1"])
        #expect(injector.namespaceSelector?.matchExpressions?.first?.values == ["kube-system"])
        #expect(injector.objectSelector == LabelSelector())
        #expect(injector.reinvocationPolicy == "IfNeeded")
        #expect(injector.timeoutSeconds == 5)
        #expect(webhooks[1].clientConfig.url == "https://203.0.113.5:8443/mutate")
        #expect(webhooks[1].clientConfig.caBundle == nil)
        #expect(!MutatingWebhookConfiguration.namespaced)
        #expect(MutatingWebhookConfiguration.group == "admissionregistration.k8s.io")
    }

    @Test func roundTripKeepsTheCABundleText() throws {
        #expect(try roundTrip(MutatingWebhookConfiguration.self, Self.sample).differences == [])
    }
}
