import ArgumentParser
import ChildProcess
import Foundation
import Sandbox

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in the cluster's workstation namespace (or an added one's), with KUBECONFIG set to its kubeconfig; its exit code is passed through.",
        usage: "sandbox-cluster run [--name NAME] [--workstation WORKSTATION] -- COMMAND [ARGUMENT...]")

    @OptionGroup var options: ClusterOptions

    @Option(help: "An added workstation ('sandbox-cluster workstation add') to run in, with its hostname; the first workstation when not given.")
    var workstation: String?

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after '--'.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after '--', e.g. 'sandbox-cluster run -- kubectl get ns'.") }
    }

    func run() throws {
        guard runningPID(in: options.directory) != nil else { throw ClusterError.notRunning(options.name) }
        let names = ClusterNames(cluster: options.name)
        guard ClusterNamespace.exists(names.workstationNamespace) else { throw ClusterError.noNetwork(options.name) }
        var namespace = names.workstationNamespace
        var kubeconfig = options.directory.appendingPathComponent("workstation.kubeconfig").path
        if let workstation {
            guard let added = AddedWorkstation.find(cluster: options.name, name: workstation) else {
                throw ClusterError.noWorkstation(options.name, workstation: workstation)
            }
            namespace = added.namespace
            kubeconfig = Workstation.kubeconfig(options, workstation: workstation).path
            try added.takeHostname()
        }
        // `ip netns exec` also mounts /etc/netns/<ws>/resolv.conf over /etc/resolv.conf.
        let arguments = ["ip", "netns", "exec", namespace, "env", "KUBECONFIG=\(kubeconfig)"] + command
        let argv = arguments.map { strdup($0) } + [nil]
        let ip = ChildProcess.locate("ip") ?? "/usr/sbin/ip"
        execv(ip, argv)
        throw ClusterNetworkError.system("run \(ip)", errno: errno)
    }
}
