import ClientSupport
import Foundation

/// An engagement as `intercept`, `wiretap`, `replace`, `ingest`, `list` and `status` print it:
/// Telepresence's text layout ("   Intercept name         : echo"), and its `--output
/// json|yaml` fields.
struct InterceptView: Encodable {
    var id: String
    var name: String
    /// intercept, wiretap, replace or ingest.
    var kind: String
    var disposition: String
    var message: String?
    var workload: String
    var workload_kind: String
    var namespace: String
    var target_host: String
    var target_port: Int
    var service_port_id: String?
    var filter_desc: String
    /// A replace's ports ("8080/TCP -> 127.0.0.1:8080").
    var replaced_ports: [String]?
    /// The agent's latest word on an active engagement (a wiretap's cut notice).
    var note: String?
    var pod_ips: [String]
    var client: String?
    /// How intercepted connections reach this machine ("agent port-forward").
    var path: String?
    // --detailed-output
    var service_name: String?
    var service_port: Int?
    var container: String?
    var container_port: Int?
    var to_pod: [String]?
    var agents: [String]?
    var environment: [String: String]?
    var mounts: [String]?
    var created: String?

    static let allConnections = "all TCP connections"

    init(_ intercept: Intercept, path: String? = nil, detailed: Bool = false) {
        id = intercept.id
        name = intercept.name
        kind = intercept.kind.rawValue
        disposition = intercept.disposition
        message = intercept.message.isEmpty || intercept.isActive ? nil : intercept.message
        note = intercept.message.isEmpty || !intercept.isActive ? nil : intercept.message
        workload = intercept.workload
        workload_kind = intercept.workloadKind
        namespace = intercept.namespace
        target_host = intercept.targetHost
        target_port = intercept.targetPort
        service_port_id = intercept.servicePortIdentifier.isEmpty ? nil : intercept.servicePortIdentifier
        filter_desc = Self.summary(intercept)
        replaced_ports = intercept.kind == .replace
            ? intercept.replacedPorts.map { "\($0.text) -> \(intercept.targetHost):\($0.targetPort)" } : nil
        pod_ips = intercept.agents.map(\.podIP)
        client = intercept.client.isEmpty ? nil : intercept.client
        self.path = path?.isEmpty == false ? path : nil
        guard detailed else { return }
        service_name = intercept.serviceName
        service_port = intercept.servicePort
        container = intercept.containerName
        container_port = intercept.containerPort
        to_pod = intercept.toPod
        agents = intercept.agents.map { "\($0.podName).\($0.namespace) \($0.podIP):\($0.tunnelPort)" }
        environment = intercept.environment
        mounts = intercept.mounts
        if intercept.createdMilliseconds > 0 {
            created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(intercept.createdMilliseconds) / 1000))
        }
    }

    /// The engagement in words: the manager's description, else what an older manager's
    /// intercept meant.
    static func summary(_ intercept: Intercept) -> String {
        if !intercept.summary.isEmpty { return intercept.summary }
        return intercept.transport.uppercased() == "UDP" ? "all UDP datagrams" : allConnections
    }

    /// Where its connections go on this machine ("" for an ingest, which moves none).
    static func destination(_ intercept: Intercept) -> String {
        switch intercept.kind {
        case .intercept, .wiretap: "\(intercept.targetHost):\(intercept.targetPort)"
        case .replace: intercept.replacedPorts.map { "\(intercept.targetHost):\($0.targetPort)" }.joined(separator: ", ")
        case .ingest: ""
        }
    }

    /// The labelled lines under "Using Deployment echo", indented by three spaces, labels
    /// padded as Telepresence pads them (to "Service Port Identifier", the longest).
    var lines: [(String, String)] {
        let label = kind == "intercept" ? "Intercept" : kind.prefix(1).uppercased() + kind.dropFirst()
        var lines: [(String, String)] = [
            ("\(label) name", name),
            ("State", disposition),
            ("Workload kind", workload_kind),
        ]
        switch kind {
        case "replace":
            lines.append(("Destination", (replaced_ports ?? []).joined(separator: ", ")))
        case "ingest":
            break
        default:
            lines.append(("Destination", "\(target_host):\(target_port)"))
            if let service_port_id { lines.append(("Service Port Identifier", service_port_id)) }
        }
        lines.append((Self.verb(kind), filter_desc))
        if let message { lines.append(("Message", message)) }
        if let note { lines.append(("Note", note)) }
        return lines
    }

    /// "Intercepting", "Wiretapping", "Replacing", "Ingesting".
    static func verb(_ kind: String) -> String {
        switch kind {
        case "wiretap": "Wiretapping"
        case "replace": "Replacing"
        case "ingest": "Ingesting"
        default: "Intercepting"
        }
    }

    /// The block `intercept` prints.
    var text: String {
        "Using \(workload_kind) \(workload)\n" + Self.render(lines)
    }

    static func render(_ lines: [(String, String)], indent: String = "   ") -> String {
        let width = max(23, lines.map(\.0.count).max() ?? 0)
        return lines.map { label, value in
            indent + label.padding(toLength: width, withPad: " ", startingAt: 0) + ": " + value + "\n"
        }.joined()
    }
}
