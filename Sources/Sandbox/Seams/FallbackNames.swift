/// DNS-1123 / DNS-1035 name rules with Kubernetes' messages, until APIMachinery's
/// `NameValidation` is merged.
enum FallbackNames {
    static func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }

    static func label(_ name: String) -> [String] {
        var errors: [String] = []
        if name.count > 63 { errors.append("must be no more than 63 characters") }
        let ok = !name.isEmpty && name.allSatisfy { isAlnum($0) || $0 == "-" } && isAlnum(name.first!) && isAlnum(name.last!)
        if !ok {
            errors.append("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        }
        return errors
    }

    static func dns1035(_ name: String) -> [String] {
        var errors: [String] = []
        if name.count > 63 { errors.append("must be no more than 63 characters") }
        let ok = !name.isEmpty && name.allSatisfy { isAlnum($0) || $0 == "-" } && name.first!.isLetter && isAlnum(name.last!)
        if !ok {
            errors.append("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
        }
        return errors
    }

    static func subdomain(_ name: String) -> [String] {
        var errors: [String] = []
        if name.count > 253 { errors.append("must be no more than 253 characters") }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let ok = !name.isEmpty && parts.allSatisfy { part in
            !part.isEmpty && part.allSatisfy { isAlnum($0) || $0 == "-" } && isAlnum(part.first!) && isAlnum(part.last!)
        }
        if !ok {
            errors.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        }
        return errors
    }

    /// The rule Kubernetes applies to a kind's names.
    static func validate(kind: String, name: String) -> [String] {
        switch kind {
        case "Namespace": label(name)
        case "Service": dns1035(name)
        case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
            name.isEmpty || name.contains("/") || name.contains("%") || name == "." || name == ".."
                ? ["may not contain '/' or '%'"] : []
        default: subdomain(name)
        }
    }
}
