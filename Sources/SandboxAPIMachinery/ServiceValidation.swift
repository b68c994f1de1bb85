import KubeClient

/// `ValidateService` for what users write: ports (named when there are several, numbers in
/// range, a known protocol, a target port that is a port number or an IANA name, no port given
/// twice), the type, the selector's labels.
public enum ServiceValidation {
    typealias V = ObjectValidation

    static let types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]

    static func service(_ service: JSONValue) -> [FieldError] {
        let spec = service["spec"]
        var errors: [FieldError] = []
        let type = V.string(spec?["type"])
        let headless = V.string(spec?["clusterIP"]) == "None"
        let ports = V.items(spec?["ports"])
        if ports.isEmpty && !headless && type != "ExternalName" {
            errors.append(.required("spec.ports"))
        }
        var names: Set<String> = []
        for (i, port) in ports.enumerated() {
            errors += self.port(port, field: "spec.ports[\(i)]", requireName: ports.count > 1, names: &names)
        }
        if !type.isEmpty, !types.contains(type) {
            errors.append(.notSupported("spec.type", type, types))
        }
        if type == "ExternalName", V.string(spec?["externalName"]).isEmpty {
            errors.append(.required("spec.externalName"))
        }
        errors += NameValidation.validateLabels(V.stringMap(spec?["selector"]) ?? [:], field: "spec.selector")
        if let affinity = spec?["sessionAffinity"]?.stringValue, !["ClientIP", "None"].contains(affinity) {
            errors.append(.notSupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
        }
        // The same port and protocol twice.
        var seen: Set<String> = []
        for (i, port) in ports.enumerated() {
            let proto = V.string(port["protocol"]), number = V.int(port["port"]) ?? 0
            if !seen.insert("\(proto)/\(number)").inserted {
                errors.append(FieldError(
                    field: "spec.ports[\(i)]", kind: .duplicate,
                    rawValue: "core.ServicePort{Name:\"\", Protocol:\(GoQuote.quote(proto)), AppProtocol:(*string)(nil), Port:\(number), TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
                    detail: ""))
            }
        }
        return errors
    }

    /// `validateServicePort`.
    static func port(_ port: JSONValue, field: String, requireName: Bool, names: inout Set<String>) -> [FieldError] {
        var errors: [FieldError] = []
        let name = V.string(port["name"])
        if requireName && name.isEmpty {
            errors.append(.required(field + ".name"))
        } else if !name.isEmpty {
            errors += NameValidation.isDNS1123Label(name).map { .invalid(field + ".name", name, $0) }
            if !names.insert(name).inserted { errors.append(.duplicate(field + ".name", name)) }
        }
        let number = V.int(port["port"]) ?? 0
        if !V.isValidPortNumber(number) { errors.append(.invalid(field + ".port", number, V.portRangeMessage)) }
        let proto = V.string(port["protocol"])
        if proto.isEmpty {
            errors.append(.required(field + ".protocol"))
        } else if !V.protocols.contains(proto) {
            errors.append(.notSupported(field + ".protocol", proto, V.protocols))
        }
        errors += V.portNumberOrName(port["targetPort"], field + ".targetPort")
        if let nodePort = V.int(port["nodePort"]), nodePort != 0, !V.isValidPortNumber(nodePort) {
            errors.append(.invalid(field + ".nodePort", nodePort, V.portRangeMessage))
        }
        return errors
    }
}
