import Foundation
import KubeClient
import SandboxAPIServer
import SandboxNetwork

/// The objects a container's environment and volumes are made from, read from the store.
struct PodInputs: Sendable {
    var configMap: @Sendable (_ namespace: String, _ name: String) -> JSONValue?
    var secret: @Sendable (_ namespace: String, _ name: String) -> JSONValue?
    var services: @Sendable (_ namespace: String) -> [JSONValue]
}

/// Why a container cannot be configured; Kubernetes shows it as the waiting reason
/// CreateContainerConfigError with this message.
struct ContainerConfigError: Error, Equatable, CustomStringConvertible {
    var description: String
}

/// A container's environment as the kubelet makes it: envFrom, then env in order with `$(VAR)`
/// expanded against what is defined so far, then the service-link variables. Pure.
enum ContainerEnvironment {
    static func build(
        pod: JSONValue, container: JSONValue, podIP: String, hostIP: String, inputs: PodInputs
    ) throws(ContainerConfigError) -> [(String, String)] {
        let namespace = pod["metadata"]?["namespace"]?.stringValue ?? "default"
        var result: [(String, String)] = []
        var defined: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if defined[name] != nil, let index = result.firstIndex(where: { $0.0 == name }) {
                result[index].1 = value
            } else {
                result.append((name, value))
            }
            defined[name] = value
        }
        let serviceLinks = pod["spec"]?["enableServiceLinks"]?.boolValue ?? true
        let services = serviceVariables(inputs.services(namespace), includeAll: serviceLinks)
            + (namespace == "default" ? [] : serviceVariables(
                inputs.services("default").filter { $0["metadata"]?["name"]?.stringValue == "kubernetes" }, includeAll: true))
        let serviceMap = Dictionary(services, uniquingKeysWith: { first, _ in first })

        for source in container["envFrom"]?.arrayValue ?? [] {
            let prefix = source["prefix"]?.stringValue ?? ""
            if let ref = source["configMapRef"] {
                let name = ref["name"]?.stringValue ?? ""
                guard let object = inputs.configMap(namespace, name) else {
                    if ref["optional"]?.boolValue == true { continue }
                    throw ContainerConfigError(description: "configmap \"\(name)\" not found")
                }
                for (key, value) in (object["data"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    set(prefix + key, value.stringValue ?? "")
                }
            } else if let ref = source["secretRef"] {
                let name = ref["name"]?.stringValue ?? ""
                guard let object = inputs.secret(namespace, name) else {
                    if ref["optional"]?.boolValue == true { continue }
                    throw ContainerConfigError(description: "secret \"\(name)\" not found")
                }
                for (key, value) in secretData(object).sorted(by: { $0.key < $1.key }) {
                    set(prefix + key, String(decoding: value, as: UTF8.self))
                }
            }
        }
        for variable in container["env"]?.arrayValue ?? [] {
            guard let name = variable["name"]?.stringValue else { continue }
            if let value = variable["value"]?.stringValue {
                set(name, expand(value) { defined[$0] ?? serviceMap[$0] })
                continue
            }
            guard let from = variable["valueFrom"] else {
                set(name, "")
                continue
            }
            if let ref = from["configMapKeyRef"] {
                let mapName = ref["name"]?.stringValue ?? ""
                let key = ref["key"]?.stringValue ?? ""
                let optional = ref["optional"]?.boolValue == true
                guard let object = inputs.configMap(namespace, mapName) else {
                    if optional { continue }
                    throw ContainerConfigError(description: "configmap \"\(mapName)\" not found")
                }
                guard let value = object["data"]?[key]?.stringValue else {
                    if optional { continue }
                    throw ContainerConfigError(description: "couldn't find key \(key) in ConfigMap \(namespace)/\(mapName)")
                }
                set(name, value)
            } else if let ref = from["secretKeyRef"] {
                let secretName = ref["name"]?.stringValue ?? ""
                let key = ref["key"]?.stringValue ?? ""
                let optional = ref["optional"]?.boolValue == true
                guard let object = inputs.secret(namespace, secretName) else {
                    if optional { continue }
                    throw ContainerConfigError(description: "secret \"\(secretName)\" not found")
                }
                guard let value = secretData(object)[key] else {
                    if optional { continue }
                    throw ContainerConfigError(description: "couldn't find key \(key) in Secret \(namespace)/\(secretName)")
                }
                set(name, String(decoding: value, as: UTF8.self))
            } else if let ref = from["fieldRef"] {
                let path = ref["fieldPath"]?.stringValue ?? ""
                guard let value = fieldValue(path, pod: pod, podIP: podIP, hostIP: hostIP) else {
                    throw ContainerConfigError(description: "unsupported fieldPath: \(path)")
                }
                set(name, value)
            } else if let ref = from["resourceFieldRef"] {
                set(name, resourceValue(ref, container: container))
            }
        }
        for (name, value) in services where defined[name] == nil {
            set(name, value)
        }
        return result
    }

    /// A secret's `data` (base64) decoded, with `stringData` over it.
    static func secretData(_ secret: JSONValue) -> [String: Data] {
        var result: [String: Data] = [:]
        for (key, value) in secret["data"]?.objectValue ?? [:] {
            result[key] = Data(base64Encoded: value.stringValue ?? "") ?? Data()
        }
        for (key, value) in secret["stringData"]?.objectValue ?? [:] {
            result[key] = Data((value.stringValue ?? "").utf8)
        }
        return result
    }

    /// A downward-API field: `metadata.name`, `metadata.labels['app']`, `status.podIP`, …
    static func fieldValue(_ path: String, pod: JSONValue, podIP: String, hostIP: String) -> String? {
        let metadata = pod["metadata"]
        func subscripted(_ field: String) -> String? {
            guard path.hasPrefix("metadata.\(field)['"), path.hasSuffix("']") else { return nil }
            let key = String(path.dropFirst("metadata.\(field)['".count).dropLast(2))
            return metadata?[field]?[key]?.stringValue ?? ""
        }
        if let value = subscripted("labels") ?? subscripted("annotations") { return value }
        switch path {
        case "metadata.name": return metadata?["name"]?.stringValue ?? ""
        case "metadata.namespace": return metadata?["namespace"]?.stringValue ?? ""
        case "metadata.uid": return metadata?["uid"]?.stringValue ?? ""
        case "metadata.labels", "metadata.annotations":
            let map = metadata?[String(path.dropFirst("metadata.".count))]?.objectValue ?? [:]
            return map.keys.sorted().map { "\($0)=\(goQuoted(map[$0]?.stringValue ?? ""))" }.joined(separator: "\n")
        case "spec.nodeName": return pod["spec"]?["nodeName"]?.stringValue ?? ""
        case "spec.serviceAccountName": return pod["spec"]?["serviceAccountName"]?.stringValue ?? ""
        case "status.podIP", "status.podIPs": return podIP
        case "status.hostIP", "status.hostIPs": return hostIP
        default: return nil
        }
    }

    /// A value as Go's `%q` writes it, which is how the kubelet writes each `key="value"` line
    /// of a labels or annotations file: quotes, backslashes and control characters escaped (an
    /// annotation holding JSON with a newline, like kubectl's last-applied-configuration, stays
    /// on its one line).
    static func goQuoted(_ value: String) -> String {
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case "\u{07}": quoted += "\\a"
            case "\u{08}": quoted += "\\b"
            case "\u{0C}": quoted += "\\f"
            case "\u{0B}": quoted += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    quoted += "\\x" + String(format: "%02x", scalar.value)
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }

    /// `limits.cpu` and friends: the container's own figure, or the node's capacity.
    static func resourceValue(_ ref: JSONValue, container: JSONValue) -> String {
        let resource = ref["resource"]?.stringValue ?? ""
        let parts = resource.split(separator: ".", maxSplits: 1).map(String.init)
        if parts.count == 2, let value = container["resources"]?[parts[0]]?[parts[1]]?.stringValue {
            return value
        }
        return resource.hasSuffix("cpu") ? "32" : String(128 << 30)
    }

    /// `$(VAR)` replaced where VAR is defined (kept literally where not), `$$` -> `$`.
    static func expand(_ text: String, lookup: (String) -> String?) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                result.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                result.append("$")
                index = text.index(after: next)
            } else if text[next] == "(", let close = text[next...].firstIndex(of: ")") {
                let name = String(text[text.index(after: next)..<close])
                result += lookup(name) ?? "$(\(name))"
                index = text.index(after: close)
            } else {
                result.append(character)
                index = next
            }
        }
        return result
    }

    /// FOO_SERVICE_HOST, FOO_SERVICE_PORT, FOO_PORT, FOO_PORT_80_TCP… for each service with a
    /// cluster IP; only `kubernetes` unless `includeAll`.
    static func serviceVariables(_ services: [JSONValue], includeAll: Bool) -> [(String, String)] {
        var result: [(String, String)] = []
        let sorted = services.sorted { ($0["metadata"]?["name"]?.stringValue ?? "") < ($1["metadata"]?["name"]?.stringValue ?? "") }
        for service in sorted {
            let name = service["metadata"]?["name"]?.stringValue ?? ""
            guard includeAll || name == "kubernetes" else { continue }
            guard let ip = service["spec"]?["clusterIP"]?.stringValue, !ip.isEmpty, ip != "None" else { continue }
            let ports = service["spec"]?["ports"]?.arrayValue ?? []
            guard let first = ports.first else { continue }
            let prefix = name.uppercased().replacingOccurrences(of: "-", with: "_")
            result.append(("\(prefix)_SERVICE_HOST", ip))
            result.append(("\(prefix)_SERVICE_PORT", String(first["port"]?.intValue ?? 0)))
            for port in ports {
                if let portName = port["name"]?.stringValue, !portName.isEmpty {
                    result.append(("\(prefix)_SERVICE_PORT_\(portName.uppercased().replacingOccurrences(of: "-", with: "_"))",
                                   String(port["port"]?.intValue ?? 0)))
                }
            }
            let firstProtocol = (first["protocol"]?.stringValue ?? "TCP").lowercased()
            result.append(("\(prefix)_PORT", "\(firstProtocol)://\(ip):\(first["port"]?.intValue ?? 0)"))
            for port in ports {
                let number = port["port"]?.intValue ?? 0
                let proto = port["protocol"]?.stringValue ?? "TCP"
                let base = "\(prefix)_PORT_\(number)_\(proto.uppercased())"
                result.append((base, "\(proto.lowercased())://\(ip):\(number)"))
                result.append(("\(base)_PROTO", proto.lowercased()))
                result.append(("\(base)_PORT", String(number)))
                result.append(("\(base)_ADDR", ip))
            }
        }
        return result
    }
}
