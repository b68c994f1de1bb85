import ArgumentParser
import Foundation
import Sandbox

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show which clusters run, with their API server URL and kubeconfig.")

    func run() async throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: StateLocation.base.path)) ?? []
        var any = false
        for name in names.sorted() {
            let dir = StateLocation.base.appendingPathComponent(name)
            let port = (try? String(contentsOf: dir.appendingPathComponent("port"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            if let pid = runningPID(in: dir) {
                print("\(name): running (pid \(pid)), API server on port \(port), kubeconfig \(dir.appendingPathComponent("kubeconfig").path)")
                let namespaces = ClusterTopology.namespaces(cluster: name)
                if !namespaces.isEmpty {
                    print("  network: namespaces \(namespaces.joined(separator: " ")); workstation kubeconfig \(dir.appendingPathComponent("workstation.kubeconfig").path) (https://\(ClusterAddresses.apiServer):\(ClusterAddresses.apiServerPort)); 'sandbox-cluster run --name \(name) -- CMD' runs CMD there")
                }
                for added in AddedWorkstation.list(cluster: name) {
                    print("  workstation \(added.name): \(added.namespace), \(added.address); 'sandbox-cluster run --name \(name) --workstation \(added.name) -- CMD' runs CMD there")
                }
            } else {
                print("\(name): not running (stale state in \(dir.path); 'sandbox-cluster down --name \(name)' removes it)")
            }
            any = true
        }
        if !any { print("no clusters; start one with 'sandbox-cluster up'") }
    }
}
