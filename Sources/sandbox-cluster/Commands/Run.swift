import ArgumentParser
import ChildProcess
import Foundation
import Sandbox

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in the cluster's workstation namespace, with KUBECONFIG set to its kubeconfig; its exit code is passed through.",
        usage: "sandbox-cluster run [--name NAME] -- COMMAND [ARGUMENT...]")

    @OptionGroup var options: ClusterOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after '--'.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after '--', e.g. 'sandbox-cluster run -- kubectl get ns'.") }
    }

    func run() throws {
        guard runningPID(in: options.directory) != nil else { throw ClusterError.notRunning(options.name) }
        let names = ClusterNames(cluster: options.name)
        guard ClusterNamespace.exists(names.workstationNamespace) else { throw ClusterError.noNetwork(options.name) }
        let kubeconfig = options.directory.appendingPathComponent("workstation.kubeconfig").path
        // `ip netns exec` also mounts /etc/netns/<ws>/resolv.conf over /etc/resolv.conf.
        let arguments = ["ip", "netns", "exec", names.workstationNamespace, "env", "KUBECONFIG=\(kubeconfig)"] + command
        let argv = arguments.map { strdup($0) } + [nil]
        let ip = ChildProcess.locate("ip") ?? "/usr/sbin/ip"
        execv(ip, argv)
        throw ClusterNetworkError.system("run \(ip)", errno: errno)
    }
}
