import Foundation
import KubeClient

/// Turns objects into a `meta.k8s.io/v1` `Table`, the answer to
/// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with the columns and cell values of
/// the real server's printers (`pkg/printers/internalversion`), so `kubectl get` prints what it
/// prints against a real cluster. Like the real server it always fills the wide columns
/// (priority 1); kubectl shows them for `-o wide` only.
public enum TableConverter {
    /// The `includeObject` query parameter.
    public enum IncludeObject: String, Sendable, Hashable {
        case none = "None"
        /// The default: each row carries a `PartialObjectMetadata`.
        case metadata = "Metadata"
        case object = "Object"
    }

    /// One column of a table.
    public struct Column: Sendable, Hashable {
        public var name: String
        public var type: String
        public var format: String
        public var description: String
        public var priority: Int

        public init(_ name: String, type: String = "string", format: String = "", priority: Int = 0, _ description: String) {
            self.name = name
            self.type = type
            self.format = format
            self.description = description
            self.priority = priority
        }

        public var json: JSONValue {
            ["name": .string(name), "type": .string(type), "format": .string(format),
             "description": .string(description), "priority": .number(Double(priority))]
        }
    }

    /// Builds the Table for `objects` of `resource` (plural, e.g. `pods`). Ages are computed
    /// against `now`. `metadata` becomes the Table's list metadata (resourceVersion, continue);
    /// watch events after the first leave the column definitions out.
    public static func table(
        resource: String, objects: [JSONValue], now: Date, includeObject: IncludeObject = .metadata,
        metadata: JSONValue = [:], includeColumnDefinitions: Bool = true
    ) -> JSONValue {
        let printer = printer(for: resource)
        let rows: [JSONValue] = objects.map { object in
            var row: [String: JSONValue] = ["cells": .array(printer.cells(object, now))]
            if let conditions = printer.conditions?(object) { row["conditions"] = .array(conditions) }
            switch includeObject {
            case .none: row["object"] = .null
            case .object: row["object"] = object
            case .metadata:
                row["object"] = [
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": object["metadata"] ?? [:],
                ]
            }
            return .object(row)
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": .array(includeColumnDefinitions ? printer.columns.map(\.json) : []),
            "rows": .array(rows),
        ]
    }

    /// The columns the Table for `resource` has.
    public static func columns(for resource: String) -> [Column] {
        printer(for: resource).columns
    }

    // MARK: Printers

    struct Printer: Sendable {
        var columns: [Column]
        var cells: @Sendable (JSONValue, Date) -> [JSONValue]
        var conditions: (@Sendable (JSONValue) -> [JSONValue]?)? = nil
    }

    static let nameColumn = Column(
        "Name", format: "name",
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.")
    static let ageColumn = Column(
        "Age", "CreationTimestamp is a timestamp representing the server time when this object was created.")

    static func printer(for resource: String) -> Printer {
        switch resource {
        case "pods": podPrinter
        case "deployments": deploymentPrinter
        case "replicasets", "replicationcontrollers": replicaSetPrinter
        case "statefulsets": statefulSetPrinter
        case "services": servicePrinter
        case "endpoints": endpointsPrinter
        case "endpointslices": endpointSlicePrinter
        case "namespaces": namespacePrinter
        case "nodes": nodePrinter
        case "configmaps": configMapPrinter
        case "secrets": secretPrinter
        case "serviceaccounts": serviceAccountPrinter
        case "events": eventPrinter
        case "roles", "clusterroles": rolePrinter
        case "rolebindings", "clusterrolebindings": roleBindingPrinter
        case "mutatingwebhookconfigurations", "validatingwebhookconfigurations": webhookPrinter
        default: defaultPrinter
        }
    }

    static let defaultPrinter = Printer(columns: [nameColumn, ageColumn]) { object, now in
        [name(object), age(object, now)]
    }

    // MARK: Pods

    static let podPrinter = Printer(
        columns: [
            nameColumn,
            Column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
            Column("Status", "The aggregate status of the containers in this pod."),
            Column("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            ageColumn,
            Column("IP", priority: 1, "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
            Column("Node", priority: 1, "NodeName indicates in which node this pod is scheduled."),
            Column("Nominated Node", priority: 1, "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods."),
            Column("Readiness Gates", priority: 1, "If specified, all readiness gates will be evaluated for pod readiness."),
        ],
        cells: { pod, now in PodStatusSummary(pod).cells(pod, now: now) },
        conditions: { pod in
            switch pod["status"]?["phase"]?.stringValue {
            case "Succeeded":
                [["type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."]]
            case "Failed":
                [["type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."]]
            default: nil
            }
        })

    // MARK: Workloads

    static let containersColumn = Column("Containers", priority: 1, "Names of each container in the template.")
    static let imagesColumn = Column("Images", priority: 1, "Images referenced by each container in the template.")
    static let selectorColumn = Column("Selector", priority: 1, "Label selector for pods.")

    static let deploymentPrinter = Printer(
        columns: [
            nameColumn,
            Column("Ready", "Number of the pod with ready state"),
            Column("Up-to-date", type: "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
            Column("Available", type: "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
            ageColumn, containersColumn, imagesColumn, selectorColumn,
        ],
        cells: { object, now in
            let (containers, images) = containerCells(object)
            return [
                name(object),
                .string("\(int(object, "status", "readyReplicas"))/\(int(object, "spec", "replicas"))"),
                .number(Double(int(object, "status", "updatedReplicas"))),
                .number(Double(int(object, "status", "availableReplicas"))),
                age(object, now), .string(containers), .string(images), .string(selectorString(object)),
            ]
        })

    static let replicaSetPrinter = Printer(
        columns: [
            nameColumn,
            Column("Desired", type: "integer", "Number of desired pods."),
            Column("Current", type: "integer", "Replicas is the most recently observed number of replicas."),
            Column("Ready", type: "integer", "The number of ready replicas for this replica set."),
            ageColumn, containersColumn, imagesColumn, selectorColumn,
        ],
        cells: { object, now in
            let (containers, images) = containerCells(object)
            return [
                name(object),
                .number(Double(int(object, "spec", "replicas"))),
                .number(Double(int(object, "status", "replicas"))),
                .number(Double(int(object, "status", "readyReplicas"))),
                age(object, now), .string(containers), .string(images), .string(selectorString(object)),
            ]
        })

    static let statefulSetPrinter = Printer(
        columns: [nameColumn, Column("Ready", "Number of the pod with ready state"), ageColumn, containersColumn, imagesColumn],
        cells: { object, now in
            let (containers, images) = containerCells(object)
            return [
                name(object),
                .string("\(int(object, "status", "readyReplicas"))/\(int(object, "spec", "replicas"))"),
                age(object, now), .string(containers), .string(images),
            ]
        })

    // MARK: Services and endpoints

    static let servicePrinter = Printer(
        columns: [
            nameColumn,
            Column("Type", "type determines how the Service is exposed."),
            Column("Cluster-IP", "clusterIP is the IP address of the service."),
            Column("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
            Column("Port(s)", "The list of ports that are exposed by this service."),
            ageColumn,
            Column("Selector", priority: 1, "Route service traffic to pods with label keys and values matching this selector."),
        ],
        cells: { service, now in
            let spec = service["spec"] ?? [:]
            let clusterIP = spec["clusterIPs"]?[0]?.stringValue ?? nonEmpty(spec["clusterIP"]?.stringValue) ?? "<none>"
            let ports = (spec["ports"]?.arrayValue ?? []).map { port -> String in
                let number = port["port"]?.intValue ?? 0
                let proto = port["protocol"]?.stringValue ?? "TCP"
                if let nodePort = port["nodePort"]?.intValue, nodePort > 0 { return "\(number):\(nodePort)/\(proto)" }
                return "\(number)/\(proto)"
            }.joined(separator: ",")
            return [
                name(service), .string(spec["type"]?.stringValue ?? ""), .string(clusterIP),
                .string(externalIP(service)), .string(ports.isEmpty ? "<none>" : ports), age(service, now),
                .string(formatLabels(spec["selector"])),
            ]
        })

    static func externalIP(_ service: JSONValue) -> String {
        let spec = service["spec"] ?? [:]
        let externalIPs = (spec["externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        switch spec["type"]?.stringValue ?? "" {
        case "ClusterIP", "NodePort":
            return externalIPs.isEmpty ? "<none>" : externalIPs.joined(separator: ",")
        case "LoadBalancer":
            let ingress = (service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []).compactMap { entry in
                nonEmpty(entry["ip"]?.stringValue) ?? nonEmpty(entry["hostname"]?.stringValue)
            }
            let all = ingress + externalIPs
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName":
            return spec["externalName"]?.stringValue ?? ""
        default:
            return "<unknown>"
        }
    }

    static let endpointsPrinter = Printer(
        columns: [nameColumn, Column("Endpoints", "The set of all endpoints is the union of all subsets."), ageColumn],
        cells: { object, now in [name(object), .string(formatEndpoints(object)), age(object, now)] })

    /// At most three `ip:port` pairs, then `+ N more...`.
    static func formatEndpoints(_ endpoints: JSONValue) -> String {
        let subsets = endpoints["subsets"]?.arrayValue ?? []
        if subsets.isEmpty { return "<none>" }
        let limit = 3
        var list: [String] = []
        var count = 0
        var more = false
        for subset in subsets {
            let addresses = (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
            let ports = subset["ports"]?.arrayValue ?? []
            if ports.isEmpty {
                count += addresses.count
                for ip in addresses {
                    if list.count == limit { more = true; break }
                    list.append(ip)
                }
                continue
            }
            for port in ports {
                count += addresses.count
                for ip in addresses {
                    if list.count == limit { more = true; break }
                    let host = ip.contains(":") ? "[\(ip)]" : ip
                    list.append("\(host):\(port["port"]?.intValue ?? 0)")
                }
            }
        }
        let joined = list.joined(separator: ",")
        return more ? "\(joined) + \(count - limit) more..." : joined
    }

    /// kubectl's EndpointSlice columns: the address type, the ports (at most three, then
    /// `+ N more...`, `<unset>` for none) and the addresses (likewise).
    static let endpointSlicePrinter = Printer(
        columns: [
            nameColumn,
            Column("AddressType", "addressType specifies the type of address carried by this EndpointSlice."),
            Column("Ports", "ports specifies the list of network ports exposed by each endpoint in this slice."),
            Column("Endpoints", "endpoints is a list of unique endpoints in this slice."),
            ageColumn,
        ],
        cells: { object, now in
            let ports = (object["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue.map(String.init) }
            let addresses = (object["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) }
            return [
                name(object), .string(object["addressType"]?.stringValue ?? ""),
                .string(limited(ports, empty: "<unset>")), .string(limited(addresses, empty: "<unset>")), age(object, now),
            ]
        })

    /// At most three items, comma-separated, then `+ N more...`.
    static func limited(_ items: [String], empty: String) -> String {
        if items.isEmpty { return empty }
        let shown = items.prefix(3).joined(separator: ",")
        return items.count > 3 ? "\(shown) + \(items.count - 3) more..." : shown
    }

    // MARK: Cluster objects

    static let namespacePrinter = Printer(
        columns: [nameColumn, Column("Status", "The status of the namespace"), ageColumn],
        cells: { object, now in [name(object), .string(object["status"]?["phase"]?.stringValue ?? ""), age(object, now)] })

    static let nodePrinter = Printer(
        columns: [
            nameColumn,
            Column("Status", "The status of the node"),
            Column("Roles", "The roles of the node"),
            ageColumn,
            Column("Version", "Kubelet Version reported by the node."),
            Column("Internal-IP", priority: 1, "List of addresses reachable to the node."),
            Column("External-IP", priority: 1, "List of addresses reachable to the node."),
            Column("OS-Image", priority: 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
            Column("Kernel-Version", priority: 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
            Column("Container-Runtime", priority: 1, "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
        ],
        cells: { node, now in
            var status: [String] = []
            if let ready = (node["status"]?["conditions"]?.arrayValue ?? []).first(where: { $0["type"] == "Ready" }) {
                status.append(ready["status"] == "True" ? "Ready" : "NotReady")
            }
            if status.isEmpty { status.append("Unknown") }
            if node["spec"]?["unschedulable"] == true { status.append("SchedulingDisabled") }

            var roles = Set<String>()
            for (key, value) in node["metadata"]?["labels"]?.objectValue ?? [:] {
                if key.hasPrefix("node-role.kubernetes.io/") {
                    let role = String(key.dropFirst("node-role.kubernetes.io/".count))
                    if !role.isEmpty { roles.insert(role) }
                } else if key == "kubernetes.io/role", let role = value.stringValue, !role.isEmpty {
                    roles.insert(role)
                }
            }
            let info = node["status"]?["nodeInfo"] ?? [:]
            func address(_ type: String) -> String {
                (node["status"]?["addresses"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }?["address"]?.stringValue ?? "<none>"
            }
            func known(_ key: String) -> JSONValue { .string(nonEmpty(info[key]?.stringValue) ?? "<unknown>") }
            return [
                name(node), .string(status.joined(separator: ",")),
                .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ",")),
                age(node, now), .string(info["kubeletVersion"]?.stringValue ?? ""),
                .string(address("InternalIP")), .string(address("ExternalIP")),
                known("osImage"), known("kernelVersion"), known("containerRuntimeVersion"),
            ]
        })

    // MARK: Configuration

    static let configMapPrinter = Printer(
        columns: [nameColumn, Column("Data", "Data contains the configuration data."), ageColumn],
        cells: { object, now in
            let count = (object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)
            return [name(object), .number(Double(count)), age(object, now)]
        })

    static let secretPrinter = Printer(
        columns: [
            nameColumn, Column("Type", "Used to facilitate programmatic handling of secret data."),
            Column("Data", "Data contains the secret data."), ageColumn,
        ],
        cells: { object, now in
            [name(object), .string(object["type"]?.stringValue ?? ""),
             .number(Double(object["data"]?.objectValue?.count ?? 0)), age(object, now)]
        })

    static let serviceAccountPrinter = Printer(
        columns: [nameColumn, Column("Secrets", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."), ageColumn],
        cells: { object, now in
            [name(object), .number(Double(object["secrets"]?.arrayValue?.count ?? 0)), age(object, now)]
        })

    // MARK: Events

    static let eventPrinter = Printer(
        columns: [
            Column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
            Column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
            Column("Reason", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
            Column("Object", "The object that this event is about."),
            Column("Subobject", priority: 1, "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement."),
            Column("Source", priority: 1, "The component reporting this event. Should be a short machine understandable string."),
            Column("Message", "A human-readable description of the status of this operation."),
            Column("First Seen", priority: 1, "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
            Column("Count", priority: 1, "The number of times this event has occurred."),
            Column("Name", format: "name", priority: 1, nameColumn.description),
        ],
        cells: { event, now in
            var first = HumanDuration.since(HumanDuration.parseTimestamp(event["firstTimestamp"]?.stringValue), now: now)
            if event["firstTimestamp"]?.stringValue == nil {
                first = HumanDuration.since(HumanDuration.parseTimestamp(event["eventTime"]?.stringValue), now: now)
            }
            var last = first
            if let lastTimestamp = HumanDuration.parseTimestamp(event["lastTimestamp"]?.stringValue) {
                last = HumanDuration.since(lastTimestamp, now: now)
            }
            var count = event["count"]?.intValue ?? 0
            if let series = event["series"], series != .null {
                last = HumanDuration.since(HumanDuration.parseTimestamp(series["lastObservedTime"]?.stringValue), now: now)
                count = series["count"]?.intValue ?? count
            } else if count == 0 {
                count = 1
            }
            let involved = event["involvedObject"] ?? [:]
            let kind = (involved["kind"]?.stringValue ?? "").lowercased()
            let target = nonEmpty(involved["name"]?.stringValue).map { "\(kind)/\($0)" } ?? kind
            let component = nonEmpty(event["source"]?["component"]?.stringValue) ?? event["reportingComponent"]?.stringValue ?? ""
            let host = nonEmpty(event["source"]?["host"]?.stringValue) ?? event["reportingInstance"]?.stringValue ?? ""
            let source = host.isEmpty ? component : "\(component), \(host)"
            return [
                .string(last), .string(event["type"]?.stringValue ?? ""), .string(event["reason"]?.stringValue ?? ""),
                .string(target), .string(involved["fieldPath"]?.stringValue ?? ""), .string(source),
                .string((event["message"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)),
                .string(first), .number(Double(count)), name(event),
            ]
        })

    // MARK: RBAC and webhooks

    static let rolePrinter = Printer(
        columns: [nameColumn, Column("Created At", type: "date", ageColumn.description)],
        cells: { object, _ in [name(object), .string(object["metadata"]?["creationTimestamp"]?.stringValue ?? "")] })

    static let roleBindingPrinter = Printer(
        columns: [
            nameColumn, Column("Role", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
            ageColumn,
            Column("Users", priority: 1, "Users in the binding"),
            Column("Groups", priority: 1, "Groups in the binding"),
            Column("ServiceAccounts", priority: 1, "ServiceAccounts in the binding"),
        ],
        cells: { binding, now in
            let role = "\(binding["roleRef"]?["kind"]?.stringValue ?? "")/\(binding["roleRef"]?["name"]?.stringValue ?? "")"
            var users: [String] = []
            var groups: [String] = []
            var accounts: [String] = []
            for subject in binding["subjects"]?.arrayValue ?? [] {
                let subjectName = subject["name"]?.stringValue ?? ""
                switch subject["kind"]?.stringValue {
                case "User": users.append(subjectName)
                case "Group": groups.append(subjectName)
                case "ServiceAccount": accounts.append("\(subject["namespace"]?.stringValue ?? ""):\(subjectName)")
                default: break
                }
            }
            return [
                name(binding), .string(role), age(binding, now), .string(users.joined(separator: ", ")),
                .string(groups.joined(separator: ", ")), .string(accounts.joined(separator: ", ")),
            ]
        })

    static let webhookPrinter = Printer(
        columns: [nameColumn, Column("Webhooks", type: "integer", "Webhooks is a list of webhooks and the affected resources and operations."), ageColumn],
        cells: { object, now in [name(object), .number(Double(object["webhooks"]?.arrayValue?.count ?? 0)), age(object, now)] })

    // MARK: Cell helpers

    static func name(_ object: JSONValue) -> JSONValue {
        .string(object["metadata"]?["name"]?.stringValue ?? "")
    }

    static func age(_ object: JSONValue, _ now: Date) -> JSONValue {
        .string(HumanDuration.since(HumanDuration.parseTimestamp(object["metadata"]?["creationTimestamp"]?.stringValue), now: now))
    }

    static func int(_ object: JSONValue, _ section: String, _ field: String) -> Int {
        object[section]?[field]?.intValue ?? 0
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    /// Comma-joined container names and images of a workload's pod template.
    static func containerCells(_ object: JSONValue) -> (String, String) {
        let containers = object["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
        return (
            containers.map { $0["name"]?.stringValue ?? "" }.joined(separator: ","),
            containers.map { $0["image"]?.stringValue ?? "" }.joined(separator: ",")
        )
    }

    static func selectorString(_ object: JSONValue) -> String {
        guard let selector = object["spec"]?["selector"] else { return "<none>" }
        let rendered = (try? LabelSelector(json: selector))?.description ?? ""
        return rendered.isEmpty ? "<none>" : rendered
    }

    /// `k=v,k2=v2` sorted by key, or `<none>` (apimachinery `labels.FormatLabels`).
    static func formatLabels(_ labels: JSONValue?) -> String {
        let pairs = (labels?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }
        return pairs.isEmpty ? "<none>" : pairs.joined(separator: ",")
    }
}
