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
    @Test(.enabled(where: .kubectl))
    func templateAppliesWithKubectl() async throws {
        try HostRequirement.kubectl.require()
        try await SandboxFixture.with { sandbox in
            let template = try await CommandRunner.run("telepresence", ["helm", "template", "-n", "tm-gitops"], environment: sandbox.environment)
            #expect(template.status == 0, "\(template.stderr)")
            let file = sandbox.folder.appendingPathComponent("manager.yaml")
            try template.stdout.write(to: file, atomically: true, encoding: .utf8)
            let apply = try await ProcessRunner.run(["kubectl", "--kubeconfig", sandbox.kubeconfig.path, "apply", "-f", file.path])
            #expect(apply.status == 0, "\(apply.combined)")
            #expect(apply.combined.contains("deployment.apps/traffic-manager created"))
            let again = try await ProcessRunner.run(["kubectl", "--kubeconfig", sandbox.kubeconfig.path, "apply", "-f", file.path])
            #expect(again.status == 0, "\(again.combined)")
            let delete = try await ProcessRunner.run(["kubectl", "--kubeconfig", sandbox.kubeconfig.path, "delete", "-f", file.path, "--wait=true", "--ignore-not-found"])
            #expect(delete.status == 0, "\(delete.combined)")
            // The sandbox empties a namespace at once, hence --ignore-not-found; nothing is left.
            let left = try await sandbox.ownedObjects()
            #expect(left == [])
        }
    }
}
