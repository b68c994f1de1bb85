import AgentConfig
import ChildProcess
import Foundation

/// `traffic agent-init`, the init container (NET_ADMIN): for each port whose Service targets it
/// by number (or whose Service is headless) there is no port name for the agent to take over, so
/// nftables in the pod's network namespace redirect what arrives from outside the pod for the
/// container port to the agent port. Only PREROUTING is touched: the agent's own dials to
/// 127.0.0.1:containerPort (OUTPUT) still reach the app.
public enum AgentInit {
    /// The nftables table (ip and ip6) holding the redirects.
    public static let table = "telepresence"

    /// The script for `nft -f -`: the table is declared, deleted and made again in one
    /// transaction, so a restarted init container replaces its rules instead of adding twice.
    /// With no port to redirect it only removes the table.
    public static func ruleset(for config: AgentConfig) -> String {
        var rules: [String] = []
        for container in config.containers {
            for intercept in container.intercepts where intercept.needsRedirect {
                let proto = intercept.protocol.lowercased() == "udp" ? "udp" : "tcp"
                rules.append("\(proto) dport \(intercept.containerPort) redirect to :\(intercept.agentPort)")
            }
        }
        var script = ""
        for family in ["ip", "ip6"] {
            script += "table \(family) \(table) {}\n"
            script += "delete table \(family) \(table)\n"
            guard !rules.isEmpty else { continue }
            script += "table \(family) \(table) {\n"
            script += "  chain prerouting {\n"
            script += "    type nat hook prerouting priority -100; policy accept;\n"
            for rule in rules { script += "    \(rule)\n" }
            script += "  }\n}\n"
        }
        return script
    }

    /// Installs the redirects for `config` in the calling thread's network namespace.
    public static func install(_ config: AgentConfig) throws(AgentInitError) {
        guard let nft = ChildProcess.locate("nft") else { throw .nftMissing }
        let script = ruleset(for: config)
        let output: ChildProcess.Output
        do {
            output = try ChildProcess.runOnCallingThread(
                executable: nft, arguments: ["-f", "-"], input: script, mergingStandardError: true, timeout: .seconds(20))
        } catch {
            throw .couldNotRun("\(error)")
        }
        guard output.status == 0 else {
            throw .refused(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

/// Why the init container failed.
public enum AgentInitError: Error, CustomStringConvertible, Equatable {
    case nftMissing
    case couldNotRun(String)
    case refused(String)

    public var description: String {
        switch self {
        case .nftMissing:
            "tel-agent-init: nft is not installed in the traffic image; install nftables in it"
        case .couldNotRun(let reason):
            "tel-agent-init: cannot run nft (\(reason)); the init container needs the NET_ADMIN capability"
        case .refused(let output):
            "tel-agent-init: nft refused the redirect rules (\(output.split(separator: "\n").joined(separator: "; "))); the init container needs the NET_ADMIN capability and a kernel with nf_tables nat"
        }
    }
}
