import KubeClient
import Sandbox
import Testing
@testable import ManagerInstall

/// The traffic-manager's install writes only what a real API server stores as written: every
/// object decodes into its kind's types without an unknown or duplicate field (a real server
/// would drop those, with `Strict` refuse them) and passes the server's validation.
@Suite struct ManagerManifestsTypedTests {
    static let values: [ManagerValues] = [
        .defaults,
        (try? ManagerValues.resolve(files: [], sets: ["managerRbac.namespaced=true", "managerRbac.namespaces={dev,staging}", "logLevel=debug"])) ?? .defaults,
    ]

    @Test("every manifest decodes without unknown fields and validates", arguments: values.indices)
    func manifestsAreTyped(_ index: Int) throws {
        // With the agent injector's TLS, as an install renders them (Secret and webhook configuration too).
        let tls = try AgentInjectorTLS.generate(namespace: "ambassador")
        let objects = ManagerManifests(namespace: "ambassador", values: Self.values[index], agentInjectorTLS: tls).objects(includeNamespace: true)
        let kinds = Set(objects.compactMap { $0["kind"]?.stringValue })
        #expect(kinds.isSuperset(of: ["Secret", "MutatingWebhookConfiguration"]))
        for object in objects {
            let kind = try #require(object["kind"]?.stringValue)
            let apiVersion = try #require(object["apiVersion"]?.stringValue)
            let type = try #require(ResourceCatalog.lookup(apiVersion: apiVersion, kind: kind), "the sandbox does not serve \(apiVersion) \(kind)")
            let decoded = try TypedDecoder.decode(object, as: kind)
            #expect(decoded.strictErrors.isEmpty, "\(kind) \(object["metadata"]?["name"] ?? nil): \(decoded.strictErrors)")
            var defaulted = decoded.object
            Defaults.apply(resource: type.plural, to: &defaulted)
            let errors = ObjectValidation.errors(defaulted, kind: .init(kind: kind, resource: type.plural, namespaced: type.namespaced))
            #expect(errors.isEmpty, "\(kind): \(errors.map(\.description))")
        }
    }
}
