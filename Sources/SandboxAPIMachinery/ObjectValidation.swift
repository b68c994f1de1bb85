import KubeClient

/// The semantic validation the real API server runs on a decoded object before storing it (the
/// `Validate<Kind>` and `Validate<Kind>Update` functions of `pkg/apis/*/validation`), for the
/// rules a user of the sandbox meets: names, labels and annotations, owner references; pod specs
/// (containers, ports, env, volumes); workloads (replicas, selectors that match their template);
/// services (ports and target ports); config keys; RBAC objects; webhook configurations. The
/// errors come in Go's order with Go's messages; the caller turns them into a 422 `Invalid`.
public enum ObjectValidation {
    /// What the caller knows about the object's kind.
    public struct Kind: Sendable {
        public var kind: String
        /// The plural resource name (`deployments`), which decides the name rule.
        public var resource: String
        public var namespaced: Bool
        public init(kind: String, resource: String, namespaced: Bool) {
            self.kind = kind
            self.resource = resource
            self.namespaced = namespaced
        }
    }

    /// The errors of `object` as created (`old` nil) or as replacing `old`.
    public static func errors(_ object: JSONValue, kind: Kind, old: JSONValue? = nil, rules: Rules = .current) -> [FieldError] {
        var errors = objectMeta(object["metadata"], kind: kind)
        if let old { errors += objectMetaUpdate(object["metadata"], old: old["metadata"]) }
        switch kind.kind {
        case "Pod":
            errors += PodSpecValidation.podSpec(object["spec"], field: "spec", rules: rules)
        case "Deployment", "ReplicaSet", "StatefulSet":
            errors += WorkloadValidation.spec(object["spec"], kind: kind.kind, old: old?["spec"], rules: rules)
        case "Service":
            errors += ServiceValidation.service(object)
        case "ConfigMap", "Secret":
            errors += ConfigDataValidation.errors(object, kind: kind.kind)
        case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
            errors += RBACValidation.errors(object, kind: kind.kind, old: old)
        case "MutatingWebhookConfiguration":
            errors += WebhookConfigurationValidation.errors(object)
        default:
            break
        }
        return errors
    }

    /// The version-dependent rules of the Kubernetes release the sandbox plays.
    public struct Rules: Sendable {
        /// Environment variable names: any printable ASCII but `=` from 1.32 on
        /// (RelaxedEnvironmentVariableValidation, on by default), `[-._a-zA-Z][-._a-zA-Z0-9]*` before.
        public var relaxedEnvVarNames: Bool
        public init(relaxedEnvVarNames: Bool) { self.relaxedEnvVarNames = relaxedEnvVarNames }
        /// Kubernetes 1.33, the version the sandbox reports.
        public static let current = Rules(relaxedEnvVarNames: true)
        public static let before132 = Rules(relaxedEnvVarNames: false)
    }

    // MARK: ObjectMeta

    /// `ValidateObjectMeta`: name and generateName, labels, annotations, owner references,
    /// finalizers.
    static func objectMeta(_ meta: JSONValue?, kind: Kind) -> [FieldError] {
        var errors = NameValidation.validateObjectName(
            name: meta?["name"]?.stringValue, generateName: meta?["generateName"]?.stringValue, resource: kind.resource)
        errors += NameValidation.validateLabels(stringMap(meta?["labels"]) ?? [:])
        errors += NameValidation.validateAnnotations(stringMap(meta?["annotations"]) ?? [:])
        errors += ownerReferences(meta?["ownerReferences"]?.arrayValue ?? [])
        for finalizer in strings(meta?["finalizers"]) {
            errors += NameValidation.isQualifiedName(finalizer).map { .invalid("metadata.finalizers", finalizer, $0) }
        }
        return errors
    }

    static func ownerReferences(_ references: [JSONValue]) -> [FieldError] {
        var errors: [FieldError] = []
        var firstController: String?
        let field = "metadata.ownerReferences"
        for reference in references {
            if string(reference["apiVersion"]).isEmpty { errors.append(.invalid(field + ".apiVersion", "", "version must not be empty")) }
            if string(reference["kind"]).isEmpty { errors.append(.invalid(field + ".kind", "", "kind must not be empty")) }
            if string(reference["name"]).isEmpty { errors.append(.invalid(field + ".name", "", "name must not be empty")) }
            if string(reference["uid"]).isEmpty { errors.append(.invalid(field + ".uid", "", "uid must not be empty")) }
            guard reference["controller"]?.boolValue == true else { continue }
            let controller = "\(string(reference["kind"]))/\(string(reference["name"]))"
            if let firstController {
                errors.append(.invalid(field, printed: "[]v1.OwnerReference{...}",
                                       "Only one reference can have Controller set to true. Found \"true\" in references for \(firstController) and \(controller)"))
            } else {
                firstController = controller
            }
        }
        return errors
    }

    /// `ValidateObjectMetaUpdate`: what may not change once the object exists. An update without
    /// a uid keeps the stored one (the server fills it in), so only a different one is refused.
    public static func objectMetaUpdate(_ meta: JSONValue?, old: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        for key in ["name", "namespace", "uid"] {
            let now = string(meta?[key]), before = string(old?[key])
            if key == "uid" && now.isEmpty { continue }
            if !before.isEmpty, now != before {
                errors.append(.invalid("metadata.\(key)", now, "field is immutable"))
            }
        }
        return errors
    }

    // MARK: Reading JSON

    static func string(_ value: JSONValue?) -> String { value?.stringValue ?? "" }

    static func strings(_ value: JSONValue?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }

    static func items(_ value: JSONValue?) -> [JSONValue] { value?.arrayValue ?? [] }

    static func stringMap(_ value: JSONValue?) -> [String: String]? { value?.objectValue?.compactMapValues(\.stringValue) }

    static func int(_ value: JSONValue?) -> Int? { value?.intValue }

    /// `ValidateNonnegativeField`.
    static func nonNegative(_ value: JSONValue?, _ field: String) -> [FieldError] {
        guard let n = int(value), n < 0 else { return [] }
        return [.invalid(field, n, "must be greater than or equal to 0")]
    }

    /// `IsValidPortNum`: `must be between 1 and 65535, inclusive`.
    static func isValidPortNumber(_ port: Int) -> Bool { (1...65535).contains(port) }
    static let portRangeMessage = "must be between 1 and 65535, inclusive"

    /// `IsValidPortName` (an IANA_SVC_NAME).
    static func portNameErrors(_ name: String) -> [String] {
        var errors: [String] = []
        if name.utf8.count > 15 { errors.append(NameValidation.maxLengthError(15)) }
        let bytes = Array(name.utf8)
        let charset = bytes.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") }
        if !charset || bytes.isEmpty { errors.append("must contain only alpha-numerics and '-'") }
        if !bytes.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) { errors.append("must contain at least one letter (a-z)") }
        if name.contains("--") { errors.append("must not contain consecutive hyphens") }
        if let first = bytes.first, let last = bytes.last, first == UInt8(ascii: "-") || last == UInt8(ascii: "-") {
            errors.append("must not begin or end with a hyphen")
        }
        return errors
    }

    /// `ValidatePortNumOrName`: a port number, or the name of a container port.
    static func portNumberOrName(_ value: JSONValue?, _ field: String) -> [FieldError] {
        if let name = value?.stringValue {
            return portNameErrors(name).map { .invalid(field, name, $0) }
        }
        let port = int(value) ?? 0
        return isValidPortNumber(port) ? [] : [.invalid(field, port, portRangeMessage)]
    }

    static let protocols = ["SCTP", "TCP", "UDP"]

    /// `ValidateLabelSelector`: match labels as labels, expressions with a known operator.
    static func labelSelector(_ selector: JSONValue?, field: String) -> [FieldError] {
        guard let selector else { return [] }
        var errors = NameValidation.validateLabels(stringMap(selector["matchLabels"]) ?? [:], field: field + ".matchLabels")
        for (i, expression) in items(selector["matchExpressions"]).enumerated() {
            let path = "\(field).matchExpressions[\(i)]"
            let op = string(expression["operator"])
            let values = strings(expression["values"])
            switch op {
            case "In", "NotIn":
                if values.isEmpty {
                    errors.append(.required(path + ".values", "must be specified when `operator` is 'In' or 'NotIn'"))
                }
            case "Exists", "DoesNotExist":
                if !values.isEmpty {
                    errors.append(.forbidden(path + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
                }
            default:
                errors.append(.invalid(path + ".operator", op, "not a valid selector operator"))
            }
            errors += NameValidation.isQualifiedName(string(expression["key"])).map { .invalid(path + ".key", string(expression["key"]), $0) }
        }
        return errors
    }
}
