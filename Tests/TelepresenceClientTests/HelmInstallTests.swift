import Foundation
import KubeClient
import TestSupport
import Testing
@testable import ManagerInstall

/// `helm install|upgrade|uninstall|template` against a sandbox API server.
@Suite(.serialized) struct HelmInstallTests {
    @Test func installUpgradeUninstallLeavesNothingBehind() async throws {
        try await SandboxFixture.with { sandbox in
            let installer = ManagerInstaller(client: sandbox.kube, namespace: "ambassador")
            let first = try await installer.install(values: .defaults, createNamespace: true)
            #expect(first.revision == 1)
            #expect(first.createdNamespace)
            let deployment: Deployment = try await sandbox.kube.get(.deployments, name: "traffic-manager", namespace: "ambassador")
            #expect(deployment.spec?.template.spec?.containers.first?.image == ManagerValues.defaults.image.reference)
            let owned = try await sandbox.kube.list(
                ResourceDescriptor(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", namespaced: false, kind: "ClusterRole"),
                options: ListOptions(labelSelector: "app.kubernetes.io/managed-by=telepresence"), as: JSONValue.self)
            #expect(owned.items.count == 1)

            // A second install is refused and says what to do.
            await #expect { try await installer.install(values: .defaults, createNamespace: true) } throws: { error in
                "\(error)".contains("helm upgrade")
            }

            // Switching to namespaced RBAC removes the cluster-scoped objects.
            _ = try await sandbox.kube.create(.namespaces, Namespace(metadata: ObjectMeta(name: "dev")))
            let namespaced = try ManagerValues.resolve(files: [], sets: ["managerRbac.namespaced=true", "managerRbac.namespaces={dev}", "logLevel=debug"])
            let second = try await installer.upgrade(values: namespaced)
            #expect(second.revision == 2)
            let current = try await installer.currentRelease()
            #expect(current?.values.logLevel == "debug")
            let names = try await sandbox.ownedObjects()
            #expect(!names.contains { $0.hasPrefix("ClusterRole") })
            #expect(names.contains("Role/traffic-manager"))

            try await installer.uninstall()
            let left = try await sandbox.ownedObjects()
            #expect(left == [])
            await #expect(throws: KubeError.self) {
                let _: Namespace = try await sandbox.kube.get(.namespaces, name: "ambassador")
            }
            await #expect { try await installer.uninstall() } throws: { error in
                "\(error)".contains("not installed in namespace ambassador")
            }
        }
    }

    @Test func installIntoAMissingNamespaceWithoutCreateIsRefused() async throws {
        try await SandboxFixture.with { sandbox in
            let installer = ManagerInstaller(client: sandbox.kube, namespace: "elsewhere")
            await #expect(throws: InstallError.namespaceMissing("elsewhere")) {
                try await installer.install(values: .defaults, createNamespace: false)
            }
            let left = try await sandbox.ownedObjects()
            #expect(left == [])
        }
    }

    /// The CLI's `helm template` output applies cleanly with a real kubectl (and deletes again).
    @Test func templateAppliesWithKubectl() async throws {
        guard let kubectl = Self.kubectl else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("kubectl is not on PATH; CI must have it") }
            return
        }
        try await SandboxFixture.with { sandbox in
            let template = try await CommandRunner.run("telepresence", ["helm", "template", "-n", "tm-gitops"], environment: sandbox.environment)
            #expect(template.status == 0, "\(template.stderr)")
            let file = sandbox.folder.appendingPathComponent("manager.yaml")
            try template.stdout.write(to: file, atomically: true, encoding: .utf8)
            let apply = try await Self.run(kubectl, ["--kubeconfig", sandbox.kubeconfig.path, "apply", "-f", file.path])
            #expect(apply.status == 0, "\(apply.output)")
            #expect(apply.output.contains("deployment.apps/traffic-manager created"))
            let again = try await Self.run(kubectl, ["--kubeconfig", sandbox.kubeconfig.path, "apply", "-f", file.path])
            #expect(again.status == 0, "\(again.output)")
            let delete = try await Self.run(kubectl, ["--kubeconfig", sandbox.kubeconfig.path, "delete", "-f", file.path, "--wait=true", "--ignore-not-found"])
            #expect(delete.status == 0, "\(delete.output)")
            // The sandbox empties a namespace at once, hence --ignore-not-found; nothing is left.
            let left = try await sandbox.ownedObjects()
            #expect(left == [])
        }
    }

    static let kubectl: URL? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("kubectl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()

    struct Output { var status: Int32; var output: String }

    static func run(_ binary: URL, _ arguments: [String]) async throws -> Output {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        // A file, not a pipe: no blocking read on the cooperative pool.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning {
            if ContinuousClock.now > deadline { process.terminate(); break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Output(status: process.terminationStatus, output: (try? String(contentsOf: file, encoding: .utf8)) ?? "")
    }
}
