import Foundation
import KubeClient
import Logging
import ManagerInstall
import Sandbox
import TestSupport
import Testing
import TrafficManager
import AgentInjector

/// The webhook server as the API server's HTTPS client meets it (curl with the install's CA).
@Suite struct WebhookServerTests {
    @Test func itAnswersReviewsAllowsWhatItDoesNotPatchAndRefusesWhatIsNoReview() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("whs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let api = try await APIServer.start()
        let kubeconfig = folder.appendingPathComponent("kubeconfig")
        try api.writeKubeconfig(to: kubeconfig)
        let kube = KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: kubeconfig.path)))
        let tls = try AgentInjectorTLS.generate(namespace: "ambassador")
        let ca = folder.appendingPathComponent("ca.crt")
        try tls.caPEM.write(to: ca, atomically: true, encoding: .utf8)
        let server = try await AgentInjectorServer.start(
            host: "127.0.0.1", port: 0, certificatePEM: tls.certificatePEM, privateKeyPEM: tls.privateKeyPEM,
            injector: AgentInjector(client: kube, settings: InjectorSettings(managerNamespace: "ambassador", agentImage: "traffic:test")),
            logger: Logger(label: "test"))
        let host = "agent-injector.ambassador.svc"
        func post(_ path: String, _ body: String) async throws -> (code: String, body: String) {
            let out = try await ProcessRunner.run([
                "curl", "-s", "--cacert", ca.path, "--resolve", "\(host):\(server.port):127.0.0.1",
                "-H", "Content-Type: application/json", "--data-binary", body, "-w", "\n%{http_code}",
                "https://\(host):\(server.port)\(path)",
            ])
            let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
        }
        do {
            let review = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","kind":{"group":"","version":"v1","kind":"ConfigMap"},"resource":{"group":"","version":"v1","resource":"configmaps"},"operation":"CREATE","userInfo":{},"object":{"metadata":{"name":"x"}}}}"#
            let allowed = try await post("/traffic-agent?timeout=5s", review)
            #expect(allowed.code == "200")
            let response = try AdmissionReview.decodeResponse(Data(allowed.body.utf8), uid: "u-1")
            #expect(response.allowed == true && response.patch == nil)

            // A bare pod: allowed, unpatched.
            let pod = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-2","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"default","operation":"CREATE","userInfo":{},"object":{"metadata":{"name":"bare"},"spec":{"containers":[{"name":"app","image":"x"}]}}}}"#
            let bare = try await post("/traffic-agent", pod)
            #expect(try AdmissionReview.decodeResponse(Data(bare.body.utf8), uid: "u-2").patch == nil)

            let garbage = try await post("/traffic-agent", "hello")
            #expect(garbage.code == "400" && garbage.body.contains("AdmissionReview"))
            #expect(try await post("/elsewhere", review).code == "404")
        } catch {
            await server.stop()
            try? await api.shutdown()
            throw error
        }
        await server.stop()
        try await api.shutdown()
    }
}
