import Foundation
import KubeClient

/// `as=Table` responses with the columns kubectl prints, minimal, until APIMachinery's
/// `TableConverter` is merged.
enum FallbackTable {
    typealias Column = (name: String, type: String, priority: Int, cell: (JSONValue) -> JSONValue)

    static func age(_ object: JSONValue) -> JSONValue {
        guard let text = object["metadata"]?["creationTimestamp"]?.stringValue, let date = Timestamp.parse(text) else {
            return "<unknown>"
        }
        return .string(humanDuration(Date().timeIntervalSince(date)))
    }

    /// Go's `duration.HumanDuration`, the AGE column format.
    static func humanDuration(_ interval: TimeInterval) -> String {
        let s = max(0, Int(interval))
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { return s % 60 == 0 ? "\(m)m" : "\(m)m\(s % 60)s" }
        if m < 180 { return "\(m)m" }
        let h = m / 60
        if h < 8 { return m % 60 == 0 ? "\(h)h" : "\(h)h\(m % 60)m" }
        if h < 48 { return "\(h)h" }
        let d = h / 24
        if h < 192 { return h % 24 == 0 ? "\(d)d" : "\(d)d\(h % 24)h" }
        if d < 730 { return "\(d)d" }
        return "\(d / 365)y"
    }

    static func int(_ v: JSONValue?) -> Int { v?.intValue ?? 0 }

    static func columns(_ type: ResourceType) -> [Column] {
        let name: Column = ("Name", "string", 0, { $0["metadata"]?["name"] ?? "" })
        let ageColumn: Column = ("Age", "string", 0, age)
        switch type.kind {
        case "Pod":
            return [
                name,
                ("Ready", "string", 0, { pod in
                    let statuses = pod["status"]?["containerStatuses"]?.arrayValue ?? []
                    let total = pod["spec"]?["containers"]?.arrayValue?.count ?? 0
                    return .string("\(statuses.filter { $0["ready"]?.boolValue == true }.count)/\(total)")
                }),
                ("Status", "string", 0, { pod in
                    if pod["metadata"]?["deletionTimestamp"] != nil { return "Terminating" }
                    return pod["status"]?["reason"] ?? pod["status"]?["phase"] ?? "Pending"
                }),
                ("Restarts", "string", 0, { pod in
                    .number(Double((pod["status"]?["containerStatuses"]?.arrayValue ?? []).reduce(0) { $0 + int($1["restartCount"]) }))
                }),
                ageColumn,
                ("IP", "string", 1, { $0["status"]?["podIP"] ?? "<none>" }),
                ("Node", "string", 1, { $0["spec"]?["nodeName"] ?? "<none>" }),
                ("Nominated Node", "string", 1, { $0["status"]?["nominatedNodeName"] ?? "<none>" }),
                ("Readiness Gates", "string", 1, { _ in "<none>" }),
            ]
        case "Deployment":
            return [
                name,
                ("Ready", "string", 0, { .string("\(int($0["status"]?["readyReplicas"]))/\(int($0["spec"]?["replicas"]))") }),
                ("Up-to-date", "integer", 0, { .number(Double(int($0["status"]?["updatedReplicas"]))) }),
                ("Available", "integer", 0, { .number(Double(int($0["status"]?["availableReplicas"]))) }),
                ageColumn,
                ("Containers", "string", 1, { containerField($0, "name") }),
                ("Images", "string", 1, { containerField($0, "image") }),
                ("Selector", "string", 1, { selectorText($0["spec"]?["selector"]?["matchLabels"]) }),
            ]
        case "ReplicaSet":
            return [
                name,
                ("Desired", "integer", 0, { .number(Double(int($0["spec"]?["replicas"]))) }),
                ("Current", "integer", 0, { .number(Double(int($0["status"]?["replicas"]))) }),
                ("Ready", "integer", 0, { .number(Double(int($0["status"]?["readyReplicas"]))) }),
                ageColumn,
            ]
        case "StatefulSet":
            return [
                name,
                ("Ready", "string", 0, { .string("\(int($0["status"]?["readyReplicas"]))/\(int($0["spec"]?["replicas"]))") }),
                ageColumn,
            ]
        case "Service":
            return [
                name,
                ("Type", "string", 0, { $0["spec"]?["type"] ?? "ClusterIP" }),
                ("Cluster-IP", "string", 0, { $0["spec"]?["clusterIP"] ?? "<none>" }),
                ("External-IP", "string", 0, { svc in
                    let ips = svc["spec"]?["externalIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    return .string(ips.isEmpty ? "<none>" : ips.joined(separator: ","))
                }),
                ("Port(s)", "string", 0, { svc in
                    let ports = (svc["spec"]?["ports"]?.arrayValue ?? []).map { p in
                        "\(int(p["port"]))/\(p["protocol"]?.stringValue ?? "TCP")"
                    }
                    return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
                }),
                ageColumn,
                ("Selector", "string", 1, { selectorText($0["spec"]?["selector"]) }),
            ]
        case "Namespace":
            return [name, ("Status", "string", 0, { $0["status"]?["phase"] ?? "Active" }), ageColumn]
        case "Node":
            return [
                name,
                ("Status", "string", 0, { node in
                    let ready = node["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
                    return ready?["status"] == "True" ? "Ready" : "NotReady"
                }),
                ("Roles", "string", 0, { _ in "<none>" }),
                ageColumn,
                ("Version", "string", 0, { $0["status"]?["nodeInfo"]?["kubeletVersion"] ?? "" }),
            ]
        case "ConfigMap":
            return [name, ("Data", "integer", 0, { .number(Double(($0["data"]?.objectValue?.count ?? 0) + ($0["binaryData"]?.objectValue?.count ?? 0))) }), ageColumn]
        case "Secret":
            return [
                name, ("Type", "string", 0, { $0["type"] ?? "Opaque" }),
                ("Data", "integer", 0, { .number(Double($0["data"]?.objectValue?.count ?? 0)) }), ageColumn,
            ]
        case "ServiceAccount":
            return [name, ("Secrets", "integer", 0, { .number(Double($0["secrets"]?.arrayValue?.count ?? 0)) }), ageColumn]
        case "Endpoints":
            return [
                name,
                ("Endpoints", "string", 0, { ep in
                    var parts: [String] = []
                    for subset in ep["subsets"]?.arrayValue ?? [] {
                        for a in subset["addresses"]?.arrayValue ?? [] {
                            for p in subset["ports"]?.arrayValue ?? [] {
                                parts.append("\(a["ip"]?.stringValue ?? ""):\(int(p["port"]))")
                            }
                        }
                    }
                    if parts.isEmpty { return "<none>" }
                    return .string(parts.count > 3 ? parts.prefix(3).joined(separator: ",") + " + \(parts.count - 3) more..." : parts.joined(separator: ","))
                }),
                ageColumn,
            ]
        default:
            return [name, ageColumn]
        }
    }

    static func containerField(_ workload: JSONValue, _ field: String) -> JSONValue {
        let containers = workload["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
        return .string(containers.compactMap { $0[field]?.stringValue }.joined(separator: ","))
    }

    static func selectorText(_ labels: JSONValue?) -> JSONValue {
        guard let map = labels?.objectValue, !map.isEmpty else { return "<none>" }
        return .string(map.keys.sorted().map { "\($0)=\(map[$0]?.stringValue ?? "")" }.joined(separator: ","))
    }

    static func table(_ type: ResourceType, objects: [JSONValue], resourceVersion: String?, includeHeaders: Bool) -> JSONValue {
        let cols = columns(type)
        let definitions: [JSONValue] = cols.map { c in
            [
                "name": .string(c.name), "type": .string(c.type), "format": c.name == "Name" ? "name" : "",
                "description": .string(c.name), "priority": .number(Double(c.priority)),
            ]
        }
        let rows: [JSONValue] = objects.map { object in
            [
                "cells": .array(cols.map { $0.cell(object) }),
                "object": [
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": object["metadata"] ?? [:],
                ],
            ]
        }
        var metadata: JSONValue = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": includeHeaders ? .array(definitions) : [],
            "rows": .array(rows),
        ]
    }
}
