import ArgumentParser
import Foundation
import Sandbox

/// `sandbox-cluster workstation add|remove|list`: further workstations on a running cluster, for
/// two developers (or more) on one cluster (see SandboxNetwork's `AddedWorkstation`). `run
/// --workstation NAME` runs commands in one; `down` removes them with the cluster.
struct Workstation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, remove or list further workstations (a second developer's machine) on a running cluster.",
        subcommands: [Add.self, Remove.self, List.self])

    /// Where an added workstation's kubeconfig lives: beside the first one's, in the cluster's state.
    static func kubeconfig(_ options: ClusterOptions, workstation: String) -> URL {
        options.directory.appendingPathComponent("workstations").appendingPathComponent("\(workstation).kubeconfig")
    }

    /// Checks that the cluster runs with its network (the first workstation exists).
    static func requireNetwork(_ options: ClusterOptions) throws {
        guard runningPID(in: options.directory) != nil else { throw ClusterError.notRunning(options.name) }
        guard ClusterNamespace.exists(ClusterNames(cluster: options.name).workstationNamespace) else { throw ClusterError.noNetwork(options.name) }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a workstation: its own network namespace, resolv.conf, hostname and kubeconfig, reaching only the API server; prints its details.")

        @OptionGroup var options: ClusterOptions

        @Argument(help: "The workstation's name, also its hostname (a letter, then letters, digits and '-').")
        var workstation: String

        func validate() throws {
            guard AddedWorkstation.isValidName(workstation) else {
                throw ValidationError(AddedWorkstationError.invalidName(workstation).description + ".")
            }
        }

        func run() async throws {
            if geteuid() != 0 { throw ClusterNetworkError.notRoot }
            try Workstation.requireNetwork(options)
            let added = try AddedWorkstation.add(cluster: options.name, name: workstation)
            // Its own copy: what one developer changes in their kubeconfig (a context, a user)
            // stays on their machine.
            let kubeconfig = Workstation.kubeconfig(options, workstation: workstation)
            do {
                try FileManager.default.createDirectory(at: kubeconfig.deletingLastPathComponent(), withIntermediateDirectories: true)
                let first = try Data(contentsOf: options.directory.appendingPathComponent("workstation.kubeconfig"))
                try first.write(to: kubeconfig)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: kubeconfig.path)
            } catch {
                added.remove()
                throw error
            }
            print("""
                workstation '\(added.name)' on cluster '\(options.name)'
                  network namespace \(added.namespace), address \(added.address), reaching only the API server at \(ClusterAddresses.apiServer):\(ClusterAddresses.apiServerPort)
                  hostname          \(added.name)
                  resolv.conf       \(added.etc)/resolv.conf
                  kubeconfig        \(kubeconfig.path)
                  run commands there with 'sandbox-cluster run --name \(options.name) --workstation \(added.name) -- CMD'
                """)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an added workstation and stop what runs in it.")

        @OptionGroup var options: ClusterOptions

        @Argument(help: "The workstation's name.")
        var workstation: String

        func run() async throws {
            if geteuid() != 0 { throw ClusterNetworkError.notRoot }
            guard let added = AddedWorkstation.find(cluster: options.name, name: workstation) else {
                throw ClusterError.noWorkstation(options.name, workstation: workstation)
            }
            added.remove()
            try? FileManager.default.removeItem(at: Workstation.kubeconfig(options, workstation: workstation))
            print("workstation '\(workstation)' removed from cluster '\(options.name)'")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the cluster's added workstations.")

        @OptionGroup var options: ClusterOptions

        func run() async throws {
            let added = AddedWorkstation.list(cluster: options.name)
            if added.isEmpty { print("cluster '\(options.name)' has no added workstations; add one with 'sandbox-cluster workstation add --name \(options.name) NAME'") }
            for workstation in added {
                print("\(workstation.name): \(workstation.namespace), \(workstation.address), kubeconfig \(Workstation.kubeconfig(options, workstation: workstation.name).path)")
            }
        }
    }
}
