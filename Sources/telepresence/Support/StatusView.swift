import ClientSupport
import Foundation
import NetworkAddress

/// `status` (and `connect`) as data: Telepresence's top-level keys (`user_daemon`,
/// `traffic_manager`) with snake_case fields, plus the cluster facts the session learned.
struct StatusView: Encodable {
    struct UserDaemon: Encodable {
        var running: Bool
        var name = "User Daemon"
        var version: String?
        var status: String
        var kubernetes_server: String?
        var kubernetes_context: String?
        var namespace: String?
        var manager_namespace: String?
        var mapped_namespaces: [String]?
        var session_state: String?
        var reconnects: Int?
        var connect_duration_ms: Int?
        var manager_link: String?
        /// This client's engagements (Telepresence's `intercepts` key).
        var intercepts: [EngagementSummary]?
        var notes: [String]?
    }

    /// One engagement in `status`.
    struct EngagementSummary: Encodable {
        var name: String
        /// intercept, wiretap, replace or ingest.
        var kind: String
        var client: String
        var workload: String
        var namespace: String
        var destination: String
        var state: String
        /// What it engages, in words ("all TCP connections", "a copy of ...").
        var description: String
        /// The agent's latest word on an active engagement (a wiretap's cut notice).
        var note: String?
    }

    struct TrafficManager: Encodable {
        var name: String
        var version: String
        var session_id: String
        var cluster_id: String
    }

    struct Cluster: Encodable {
        var service_subnet: String?
        var pod_subnets: [String]
        var pod_cidr_strategy: String
        var cluster_domain: String
        var dns_ip: String?
        var managed_namespaces: [String]
    }

    /// The root daemon's side: the workstation's network (Telepresence's `root_daemon` key).
    struct RootDaemon: Encodable {
        var running: Bool
        var name = "Root Daemon"
        var status: String
        var device: String?
        var routes: [String]?
        var dns: String?
        /// "systemd-resolved" (split DNS on the device's link) or "resolv.conf" (replaced).
        var dns_mode: String?
        /// Subnets the device could not route (IPv6, for now).
        var unrouted_subnets: [String]?
        var tunnel_connections: Int?
        var tunnel_reconnects: Int?
        var active_flows: Int?
        var error: String?
    }

    var connected: Bool
    var user_daemon: UserDaemon
    var root_daemon: RootDaemon?
    var traffic_manager: TrafficManager?
    var cluster: Cluster?

    static func notRunning() -> StatusView {
        StatusView(connected: false, user_daemon: UserDaemon(running: false, status: "Not running"))
    }

    init(connected: Bool, user_daemon: UserDaemon, traffic_manager: TrafficManager? = nil, root_daemon: RootDaemon? = nil, cluster: Cluster? = nil) {
        self.connected = connected
        self.user_daemon = user_daemon
        self.root_daemon = root_daemon
        self.traffic_manager = traffic_manager
        self.cluster = cluster
    }

    static func rootDaemon(_ network: NetworkStatus) -> RootDaemon {
        let running = network.state != .disconnected
        let status = switch network.state {
        case .connected: "Connected"
        case .reconnecting: "Reconnecting"
        case .disconnected: "Not connected"
        }
        return RootDaemon(
            running: running || network.note == nil,
            status: status,
            device: network.device, routes: running ? network.routes.map(\.description) : nil,
            dns: network.dnsAddress?.description, dns_mode: network.dnsMode,
            unrouted_subnets: network.unroutedSubnets.isEmpty ? nil : network.unroutedSubnets.map(\.description),
            tunnel_connections: running ? network.tunnelConnectionsUp : nil,
            tunnel_reconnects: running ? network.tunnelReconnects : nil,
            active_flows: running ? network.activeFlows : nil,
            error: network.note)
    }

    /// The connection as data; nil `info` means the daemon runs but is not connected.
    init(info: ConnectionInfo?, daemonVersion: String?) {
        guard let info else {
            self.init(connected: false, user_daemon: UserDaemon(running: true, version: daemonVersion, status: "Not connected"))
            return
        }
        let (seconds, attoseconds) = info.connectDuration.components
        self.init(
            connected: true,
            user_daemon: UserDaemon(
                running: true, version: daemonVersion, status: info.sessionState == .reconnecting ? "Reconnecting" : "Connected",
                kubernetes_server: info.clusterServer, kubernetes_context: info.clusterContext, namespace: info.namespace,
                manager_namespace: info.managerNamespace, mapped_namespaces: info.mappedNamespaces,
                session_state: info.sessionState.rawValue, reconnects: info.reconnects,
                connect_duration_ms: Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000), manager_link: info.managerLink,
                intercepts: info.intercepts.map {
                    EngagementSummary(
                        name: $0.name, kind: $0.kind.rawValue, client: $0.client, workload: $0.workload, namespace: $0.namespace,
                        destination: InterceptView.destination($0), state: $0.disposition,
                        description: InterceptView.summary($0), note: $0.message.isEmpty ? nil : $0.message)
                },
                notes: info.notes.isEmpty ? nil : info.notes),
            traffic_manager: TrafficManager(
                name: info.managerVersion.name, version: info.managerVersion.version,
                session_id: info.sessionID, cluster_id: info.clusterID),
            root_daemon: Self.rootDaemon(info.network),
            cluster: Cluster(
                service_subnet: info.clusterInfo.serviceSubnet?.description,
                pod_subnets: info.clusterInfo.podSubnets.map(\.description),
                pod_cidr_strategy: info.clusterInfo.podCIDRStrategy,
                cluster_domain: info.clusterInfo.clusterDomain,
                dns_ip: info.clusterInfo.dnsIP?.description,
                managed_namespaces: info.clusterInfo.managedNamespaces))
    }

    /// Lines for a person.
    var text: TextTable {
        var rows: [[String]] = [["User Daemon:", user_daemon.status]]
        if connected {
            rows += [
                ["  Version:", "v\(user_daemon.version ?? "")"],
                ["  Kubernetes server:", user_daemon.kubernetes_server ?? ""],
                ["  Kubernetes context:", user_daemon.kubernetes_context ?? ""],
                ["  Namespace:", user_daemon.namespace ?? ""],
                ["  Manager namespace:", user_daemon.manager_namespace ?? ""],
                ["  Mapped namespaces:", (user_daemon.mapped_namespaces ?? []).isEmpty ? "all" : (user_daemon.mapped_namespaces ?? []).joined(separator: ", ")],
                ["  Manager link:", user_daemon.manager_link ?? ""],
            ]
            let intercepts = user_daemon.intercepts ?? []
            rows.append(["  Intercepts:", "\(intercepts.count) total"])
            for intercept in intercepts {
                let destination = intercept.destination.isEmpty ? "" : " -> \(intercept.destination)"
                rows.append(["    \(intercept.name):", "\(intercept.kind) \(intercept.workload).\(intercept.namespace)\(destination) (\(intercept.state)): \(intercept.description)"])
                if let note = intercept.note { rows.append(["      Note:", note]) }
            }
            for note in user_daemon.notes ?? [] { rows.append(["  Note:", note]) }
        }
        if let root = root_daemon {
            rows.append(["Root Daemon:", root.status])
            if let device = root.device { rows.append(["  Device:", device]) }
            if let routes = root.routes, !routes.isEmpty { rows.append(["  Routes:", routes.joined(separator: ", ")]) }
            if let unrouted = root.unrouted_subnets { rows.append(["  Not routed:", unrouted.joined(separator: ", ") + " (IPv6 routes are not supported yet)"]) }
            if let dns = root.dns {
                let how = switch root.dns_mode {
                case "systemd-resolved"?: " (split DNS through systemd-resolved)"
                case "resolv.conf"?: " (in /etc/resolv.conf while connected)"
                default: ""
                }
                rows.append(["  DNS server:", dns + how])
            }
            if let up = root.tunnel_connections {
                let reconnects = root.tunnel_reconnects ?? 0
                rows.append(["  Tunnel:", "\(up) connection\(up == 1 ? "" : "s") up" + (reconnects > 0 ? ", \(reconnects) reconnect\(reconnects == 1 ? "" : "s")" : "")])
            }
            if let error = root.error { rows.append(["  Note:", error]) }
        }
        if let manager = traffic_manager {
            rows += [["Traffic Manager:", "Connected"], ["  Version:", "v\(manager.version)"], ["  Session:", manager.session_id]]
        }
        if let cluster {
            rows += [
                ["Cluster:", ""],
                ["  Service subnet:", cluster.service_subnet ?? "unknown"],
                ["  Pod subnets:", cluster.pod_subnets.joined(separator: ", ") + " (\(cluster.pod_cidr_strategy))"],
                ["  Domain:", cluster.cluster_domain],
                ["  DNS:", cluster.dns_ip ?? "unknown"],
            ]
        }
        return TextTable(header: nil, rows: rows)
    }
}
