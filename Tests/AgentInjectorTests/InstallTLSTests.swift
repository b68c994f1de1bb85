import Foundation
import KubeClient
import ManagerInstall
import Testing

@Suite("The webhook's certificate the install keeps")
struct InstallTLSTests {
    static func secret(_ tls: AgentInjectorTLS) -> Secret {
        Secret(metadata: ObjectMeta(name: AgentInjectorTLS.secretName), data: [
            "ca.crt": Data(tls.caPEM.utf8), "tls.crt": Data(tls.certificatePEM.utf8), "tls.key": Data(tls.privateKeyPEM.utf8),
        ])
    }

    @Test func aKeptCertificateIsUsedAgainOnlyWhenItFits() throws {
        let tls = try AgentInjectorTLS.generate(namespace: "ambassador")
        #expect(AgentInjectorTLS(secret: Self.secret(tls), namespace: "ambassador") == tls)
        // Another namespace's service name is not in it.
        #expect(AgentInjectorTLS(secret: Self.secret(tls), namespace: "other") == nil)
        // A key that is not the certificate's, a certificate another CA signed, a missing key.
        let other = try AgentInjectorTLS.generate(namespace: "ambassador")
        var mixed = tls
        mixed.privateKeyPEM = other.privateKeyPEM
        #expect(AgentInjectorTLS(secret: Self.secret(mixed), namespace: "ambassador") == nil)
        mixed = tls
        mixed.caPEM = other.caPEM
        #expect(AgentInjectorTLS(secret: Self.secret(mixed), namespace: "ambassador") == nil)
        var partial = Self.secret(tls)
        partial.data?["tls.key"] = nil
        #expect(AgentInjectorTLS(secret: partial, namespace: "ambassador") == nil)
    }

    @Test func theManifestsCarryTheWebhook() throws {
        let tls = try AgentInjectorTLS.generate(namespace: "ambassador")
        let objects = ManagerManifests(namespace: "ambassador", values: .defaults, agentInjectorTLS: tls).objects(includeNamespace: false)
        let webhook = try #require(objects.first { $0["kind"] == "MutatingWebhookConfiguration" })
        #expect(webhook["metadata"]?["name"] == "agent-injector-webhook-ambassador")
        let hook = try #require(webhook["webhooks"]?[0])
        #expect(hook["clientConfig"]?["caBundle"]?.stringValue == Data(tls.caPEM.utf8).base64EncodedString())
        #expect(hook["failurePolicy"] == "Ignore" && hook["sideEffects"] == "None" && hook["timeoutSeconds"] == 5)
        #expect(hook["namespaceSelector"]?["matchExpressions"]?[0]?["operator"] == "NotIn")
        let deployment = try #require(objects.first { $0["kind"] == "Deployment" })
        let container = try #require(deployment["spec"]?["template"]?["spec"]?["containers"]?[0])
        let env = container["env"]?.arrayValue ?? []
        #expect(env.contains { $0["name"] == "AGENT_IMAGE" && $0["value"] == .string(ManagerValues.defaults.image.reference) })
        #expect(container["ports"]?.arrayValue?.contains { $0["name"] == "https" && $0["containerPort"] == 8443 } == true)

        // A namespaced install's webhook calls only for its namespaces.
        let values = try ManagerValues.resolve(files: [], sets: ["managerRbac.namespaced=true", "managerRbac.namespaces={dev,staging}"])
        let namespaced = ManagerManifests(namespace: "ambassador", values: values, agentInjectorTLS: tls).objects(includeNamespace: false)
        let selector = namespaced.first { $0["kind"] == "MutatingWebhookConfiguration" }?["webhooks"]?[0]?["namespaceSelector"]
        #expect(selector?["matchExpressions"]?[0]?["operator"] == "In")
        #expect(selector?["matchExpressions"]?[0]?["values"] == ["dev", "staging"])
        let roles = namespaced.filter { $0["kind"] == "Role" && $0["metadata"]?["namespace"] == "dev" }
        let rules = roles.first?["rules"]?.arrayValue ?? []
        #expect(rules.contains { $0["resources"] == ["configmaps"] && $0["verbs"]?.arrayValue?.contains("patch") == true })
        #expect(rules.contains { $0["resources"] == ["pods"] && $0["verbs"]?.arrayValue?.contains("delete") == true })
    }
}
