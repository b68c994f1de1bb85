import KubeClient

/// `ValidatePodSpec` and `ValidatePodTemplateSpec` for what users write: volumes, containers
/// (names, images, ports, env, volume mounts, pull policy), restart and DNS policies, the node
/// selector and the service account name, with the real server's paths and messages
/// (`spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and
/// 65535, inclusive`).
public enum PodSpecValidation {
    typealias V = ObjectValidation

    /// A pod template's metadata and spec (`ValidatePodTemplateSpec`): note that the real server
    /// reports template labels at `<field>.labels`, not `<field>.metadata.labels`.
    static func template(_ template: JSONValue?, field: String, rules: ObjectValidation.Rules) -> [FieldError] {
        let meta = template?["metadata"]
        var errors = NameValidation.validateLabels(V.stringMap(meta?["labels"]) ?? [:], field: field + ".labels")
        errors += NameValidation.validateAnnotations(V.stringMap(meta?["annotations"]) ?? [:], field: field + ".annotations")
        errors += podSpec(template?["spec"], field: field + ".spec", rules: rules)
        return errors
    }

    public static func podSpec(_ spec: JSONValue?, field: String, rules: ObjectValidation.Rules = .current) -> [FieldError] {
        var errors: [FieldError] = []
        let volumeNames = volumes(V.items(spec?["volumes"]), field: field + ".volumes", errors: &errors)
        let containers = V.items(spec?["containers"])
        if containers.isEmpty { errors.append(.required(field + ".containers")) }
        var names: Set<String> = []
        for (i, container) in containers.enumerated() {
            let path = "\(field).containers[\(i)]"
            errors += self.container(container, field: path, volumes: volumeNames, rules: rules)
            let name = V.string(container["name"])
            if !names.insert(name).inserted { errors.append(.duplicate(path + ".name", name)) }
        }
        for (i, container) in V.items(spec?["initContainers"]).enumerated() {
            let path = "\(field).initContainers[\(i)]"
            errors += self.container(container, field: path, volumes: volumeNames, rules: rules)
            let name = V.string(container["name"])
            if !names.insert(name).inserted { errors.append(.duplicate(path + ".name", name)) }
        }
        if let policy = spec?["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(policy.isEmpty ? .required(field + ".restartPolicy") : .notSupported(field + ".restartPolicy", policy, ["Always", "OnFailure", "Never"]))
        }
        if let policy = spec?["dnsPolicy"]?.stringValue, !["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"].contains(policy) {
            errors.append(.notSupported(field + ".dnsPolicy", policy, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]))
        }
        errors += NameValidation.validateLabels(V.stringMap(spec?["nodeSelector"]) ?? [:], field: field + ".nodeSelector")
        if let account = spec?["serviceAccountName"]?.stringValue, !account.isEmpty {
            errors += NameValidation.isDNS1123Subdomain(account).map { .invalid(field + ".serviceAccountName", account, $0) }
        }
        errors += V.nonNegative(spec?["terminationGracePeriodSeconds"], field + ".terminationGracePeriodSeconds")
        return errors
    }

    /// `ValidateVolumes`: each volume has one source and a unique DNS-label name. Returns the
    /// names, which volume mounts must refer to.
    static func volumes(_ volumes: [JSONValue], field: String, errors: inout [FieldError]) -> Set<String> {
        var names: Set<String> = []
        let sources = Set(TypeSchema.kubernetes.message("VolumeSource")?.fields.map(\.name) ?? [])
        for (i, volume) in volumes.enumerated() {
            let path = "\(field)[\(i)]"
            let given = (volume.objectValue ?? [:]).keys.filter { sources.contains($0) }.sorted()
            if given.isEmpty {
                errors.append(.required(path, "must specify a volume type"))
            } else if given.count > 1 {
                errors.append(.forbidden("\(path).\(given[1])", "may not specify more than 1 volume type"))
            }
            let name = V.string(volume["name"])
            if name.isEmpty {
                errors.append(.required(path + ".name"))
            } else {
                errors += NameValidation.isDNS1123Label(name).map { .invalid(path + ".name", name, $0) }
            }
            if !names.insert(name).inserted { errors.append(.duplicate(path + ".name", name)) }
        }
        return names
    }

    /// `validateContainerCommon`: name, image, ports, env, volume mounts, pull policy.
    static func container(_ container: JSONValue, field: String, volumes: Set<String>, rules: ObjectValidation.Rules) -> [FieldError] {
        var errors: [FieldError] = []
        let name = V.string(container["name"])
        if name.isEmpty {
            errors.append(.required(field + ".name"))
        } else {
            errors += NameValidation.isDNS1123Label(name).map { .invalid(field + ".name", name, $0) }
        }
        if V.string(container["image"]).isEmpty { errors.append(.required(field + ".image")) }
        if let policy = container["terminationMessagePolicy"]?.stringValue, !["File", "FallbackToLogsOnError"].contains(policy) {
            errors.append(.notSupported(field + ".terminationMessagePolicy", policy, ["File", "FallbackToLogsOnError"]))
        }
        errors += ports(V.items(container["ports"]), field: field + ".ports")
        errors += env(V.items(container["env"]), field: field + ".env", rules: rules)
        errors += volumeMounts(V.items(container["volumeMounts"]), field: field + ".volumeMounts", volumes: volumes)
        if let policy = container["imagePullPolicy"]?.stringValue, !["Always", "IfNotPresent", "Never"].contains(policy) {
            errors.append(policy.isEmpty ? .required(field + ".imagePullPolicy")
                : .notSupported(field + ".imagePullPolicy", policy, ["Always", "IfNotPresent", "Never"]))
        }
        return errors
    }

    /// `validateContainerPorts`.
    static func ports(_ ports: [JSONValue], field: String) -> [FieldError] {
        var errors: [FieldError] = []
        var names: Set<String> = []
        for (i, port) in ports.enumerated() {
            let path = "\(field)[\(i)]"
            let name = V.string(port["name"])
            if !name.isEmpty {
                let problems = V.portNameErrors(name)
                if !problems.isEmpty {
                    errors += problems.map { .invalid(path + ".name", name, $0) }
                } else if !names.insert(name).inserted {
                    errors.append(.duplicate(path + ".name", name))
                }
            }
            let number = V.int(port["containerPort"]) ?? 0
            if number == 0 {
                errors.append(.required(path + ".containerPort"))
            } else if !V.isValidPortNumber(number) {
                errors.append(.invalid(path + ".containerPort", number, V.portRangeMessage))
            }
            if let host = V.int(port["hostPort"]), host != 0, !V.isValidPortNumber(host) {
                errors.append(.invalid(path + ".hostPort", host, V.portRangeMessage))
            }
            let proto = V.string(port["protocol"])
            if proto.isEmpty {
                errors.append(.required(path + ".protocol"))
            } else if !V.protocols.contains(proto) {
                errors.append(.notSupported(path + ".protocol", proto, V.protocols))
            }
        }
        return errors
    }

    /// `ValidateEnv`: a name by the release's rule, and a `valueFrom` with exactly one source.
    static func env(_ vars: [JSONValue], field: String, rules: ObjectValidation.Rules) -> [FieldError] {
        var errors: [FieldError] = []
        for (i, variable) in vars.enumerated() {
            let path = "\(field)[\(i)]"
            let name = V.string(variable["name"])
            if name.isEmpty { errors.append(.required(path + ".name")) }
            let problems = rules.relaxedEnvVarNames ? relaxedEnvVarNameErrors(name) : envVarNameErrors(name)
            errors += problems.map { .invalid(path + ".name", name, $0) }
            if let from = variable["valueFrom"] {
                let sources = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"].filter { from[$0] != nil }
                if sources.isEmpty {
                    errors.append(.invalid(path + ".valueFrom", "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
                } else if sources.count > 1 {
                    errors.append(.invalid(path + ".valueFrom", "", "may not have more than one field specified at a time"))
                }
                if !V.string(variable["value"]).isEmpty {
                    errors.append(.invalid(path + ".valueFrom", "", "may not be specified when `value` is not empty"))
                }
            }
        }
        return errors
    }

    static let envVarNameFormat = "[-._a-zA-Z][-._a-zA-Z0-9]*"

    /// `IsEnvVarName` (before 1.32, and with the feature gate off).
    public static func envVarNameErrors(_ name: String) -> [String] {
        var errors: [String] = []
        let bytes = Array(name.utf8)
        func allowed(_ b: UInt8, first: Bool) -> Bool {
            let letter = (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            let digit = b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
            return letter || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || (!first && digit)
        }
        let valid = !bytes.isEmpty && allowed(bytes[0], first: true) && bytes.dropFirst().allSatisfy { allowed($0, first: false) }
        if !valid {
            errors.append(NameValidation.regexError(
                "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
                envVarNameFormat, examples: ["my.env-name", "MY_ENV.NAME", "MyEnvName1"]))
        }
        switch name {
        case ".": errors.append("must not be '.'")
        case "..": errors.append("must not be '..'")
        default: if name.hasPrefix("..") { errors.append("must not start with '..'") }
        }
        return errors
    }

    /// `IsRelaxedEnvVarName` (1.32 on): printable ASCII other than `=`.
    public static func relaxedEnvVarNameErrors(_ name: String) -> [String] {
        var errors: [String] = []
        if name.isEmpty { errors.append("environment variable name must be non-empty") }
        if name.unicodeScalars.contains(where: { $0.value > 0x7E || $0.value < 0x20 || $0 == "=" }) {
            errors.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
        }
        return errors
    }

    /// `ValidateVolumeMounts`: a mount names a volume of the pod and a unique path.
    static func volumeMounts(_ mounts: [JSONValue], field: String, volumes: Set<String>) -> [FieldError] {
        var errors: [FieldError] = []
        var paths: Set<String> = []
        for (i, mount) in mounts.enumerated() {
            let path = "\(field)[\(i)]"
            let name = V.string(mount["name"])
            if name.isEmpty { errors.append(.required(path + ".name")) }
            if !volumes.contains(name) { errors.append(.notFound(path + ".name", name)) }
            let mountPath = V.string(mount["mountPath"])
            if mountPath.isEmpty { errors.append(.required(path + ".mountPath")) }
            if !paths.insert(mountPath).inserted { errors.append(.invalid(path + ".mountPath", mountPath, "must be unique")) }
        }
        return errors
    }
}
