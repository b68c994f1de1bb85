import KubeClient

/// `ValidateMutatingWebhookConfiguration`: each webhook has a fully qualified, unique name, rules
/// with operations, groups, versions and resources, a side-effect class of `None` or
/// `NoneOnDryRun`, a timeout of 1-30 s, admission review versions it can be sent, and exactly one
/// of `url` (https, with a host) or `service`.
public enum WebhookConfigurationValidation {
    typealias V = ObjectValidation

    static func errors(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        var names: Set<String> = []
        for (i, hook) in V.items(object["webhooks"]).enumerated() {
            let field = "webhooks[\(i)]"
            errors += webhook(hook, field: field)
            let versions = V.strings(hook["admissionReviewVersions"])
            if versions.isEmpty {
                errors.append(.required(field + ".admissionReviewVersions", "must specify one of v1, v1beta1"))
            } else if !versions.contains(where: { ["v1", "v1beta1"].contains($0) }) {
                errors.append(.invalid(field + ".admissionReviewVersions", printed: GoSyntax.stringSlice(versions), "must include at least one of v1, v1beta1"))
            }
            let name = V.string(hook["name"])
            if !name.isEmpty, !names.insert(name).inserted { errors.append(.duplicate(field + ".name", name)) }
        }
        return errors
    }

    static func webhook(_ hook: JSONValue, field: String) -> [FieldError] {
        var errors = fullyQualifiedName(V.string(hook["name"]), field: field + ".name")
        for (i, rule) in V.items(hook["rules"]).enumerated() {
            errors += self.rule(rule, field: "\(field).rules[\(i)]")
        }
        if let policy = hook["failurePolicy"]?.stringValue, !["Fail", "Ignore"].contains(policy) {
            errors.append(.notSupported(field + ".failurePolicy", policy, ["Fail", "Ignore"]))
        }
        if let policy = hook["matchPolicy"]?.stringValue, !["Equivalent", "Exact"].contains(policy) {
            errors.append(.notSupported(field + ".matchPolicy", policy, ["Equivalent", "Exact"]))
        }
        if let effects = hook["sideEffects"]?.stringValue {
            if !["None", "NoneOnDryRun"].contains(effects) {
                errors.append(.notSupported(field + ".sideEffects", effects, ["None", "NoneOnDryRun"]))
            }
        } else {
            errors.append(.required(field + ".sideEffects", "must specify one of None, NoneOnDryRun"))
        }
        if let timeout = V.int(hook["timeoutSeconds"]), !(1...30).contains(timeout) {
            errors.append(.invalid(field + ".timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"))
        }
        errors += V.labelSelector(hook["namespaceSelector"], field: field + ".namespaceSelector")
        errors += V.labelSelector(hook["objectSelector"], field: field + ".objectSelector")
        if let policy = hook["reinvocationPolicy"]?.stringValue, !["IfNeeded", "Never"].contains(policy) {
            errors.append(.notSupported(field + ".reinvocationPolicy", policy, ["IfNeeded", "Never"]))
        }
        errors += clientConfig(hook["clientConfig"], field: field + ".clientConfig")
        return errors
    }

    /// `IsFullyQualifiedName`: a DNS subdomain of at least three labels.
    static func fullyQualifiedName(_ name: String, field: String) -> [FieldError] {
        if name.isEmpty { return [.required(field)] }
        let problems = NameValidation.isDNS1123Subdomain(name)
        if !problems.isEmpty { return [.invalid(field, name, problems.joined(separator: ","))] }
        if name.split(separator: ".", omittingEmptySubsequences: false).count < 3 {
            return [.invalid(field, name, "should be a domain with at least three segments separated by dots")]
        }
        return []
    }

    static func rule(_ rule: JSONValue, field: String) -> [FieldError] {
        var errors: [FieldError] = []
        let operations = V.strings(rule["operations"])
        if operations.isEmpty { errors.append(.required(field + ".operations")) }
        for (i, operation) in operations.enumerated() where !["*", "CONNECT", "CREATE", "DELETE", "UPDATE"].contains(operation) {
            errors.append(.notSupported("\(field).operations[\(i)]", operation, ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"]))
        }
        if rule["apiGroups"]?.arrayValue?.isEmpty ?? true { errors.append(.required(field + ".apiGroups")) }
        if V.strings(rule["apiVersions"]).isEmpty { errors.append(.required(field + ".apiVersions")) }
        if V.strings(rule["resources"]).isEmpty { errors.append(.required(field + ".resources")) }
        if let scope = rule["scope"]?.stringValue, !["*", "Cluster", "Namespaced"].contains(scope) {
            errors.append(.notSupported(field + ".scope", scope, ["*", "Cluster", "Namespaced"]))
        }
        return errors
    }

    static func clientConfig(_ config: JSONValue?, field: String) -> [FieldError] {
        let url = config?["url"]?.stringValue, service = config?["service"]
        if (url == nil) == (service == nil) {
            return [.required(field, "exactly one of url or service is required")]
        }
        let form = "; desired format: https://host[/path]"
        if let url {
            var errors: [FieldError] = []
            let scheme = url.range(of: "://").map { String(url[..<$0.lowerBound]) } ?? ""
            let rest = url.range(of: "://").map { String(url[$0.upperBound...]) } ?? ""
            let host = String(rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
            if scheme != "https" { errors.append(.invalid(field + ".url", scheme, "'https' is the only allowed URL scheme" + form)) }
            if host.isEmpty { errors.append(.invalid(field + ".url", host, "host must be specified" + form)) }
            return errors
        }
        var errors: [FieldError] = []
        if V.string(service?["name"]).isEmpty { errors.append(.required(field + ".service.name", "service name is required")) }
        if V.string(service?["namespace"]).isEmpty { errors.append(.required(field + ".service.namespace", "service namespace is required")) }
        if let port = V.int(service?["port"]), !V.isValidPortNumber(port) {
            errors.append(.invalid(field + ".service.port", port, "port is not valid: " + V.portRangeMessage))
        }
        if let path = service?["path"]?.stringValue, !path.isEmpty, path != "/", !path.hasPrefix("/") {
            errors.append(.invalid(field + ".service.path", path, "must start with a '/'"))
        }
        return errors
    }
}
