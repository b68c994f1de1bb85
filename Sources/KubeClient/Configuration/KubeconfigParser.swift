import Foundation
import Yams

/// Turns the text of one kubeconfig file into a `Kubeconfig`, checking every field it reads and
/// naming the file and field path in each error. Unknown fields are ignored, as client-go does.
public enum KubeconfigParser {
    /// Parses `text`, the contents of `file`; relative paths resolve against `file`'s directory.
    public static func parse(_ text: String, file: String) throws -> Kubeconfig {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        }
        var config = Kubeconfig(files: [file])
        guard let root, !YAMLField(node: root, path: "", file: file).isNull else { return config }
        let top = YAMLField(node: root, path: "", file: file)
        let fields = try top.mapping(description: "a map of kubeconfig fields")
        let directory = (file as NSString).deletingLastPathComponent

        if let clusters = fields["clusters"] {
            config.clusters = try namedEntries(clusters, key: "cluster", file: file) { field in
                try parseCluster(field, directory: directory)
            }
        }
        if let users = fields["users"] {
            config.users = try namedEntries(users, key: "user", file: file) { field in
                try parseUser(field, directory: directory)
            }
        }
        if let contexts = fields["contexts"] {
            config.contexts = try namedEntries(contexts, key: "context", file: file) { field in
                try parseContext(field)
            }
        }
        if let current = try fields["current-context"]?.string(), !current.isEmpty {
            config.currentContext = current
            config.currentContextFile = file
        }
        if let preferences = fields["preferences"], !preferences.isNull {
            config.preferences = try preferences.json()
        }
        return config
    }

    private static func syntaxError(_ error: YamlError, file: String) -> ConfigurationError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return .syntax(file: file, line: mark.line, problem: problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .syntax(
                file: file, line: context.mark.line,
                problem: "duplicate keys \(duplicates.sorted().joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return .syntax(file: file, line: nil, problem: problem)
        default:
            return .syntax(file: file, line: nil, problem: "\(error)")
        }
    }

    /// `clusters`, `users`, `contexts`: lists of `{name, <key>}`. A name used twice in one file
    /// is an error, as in client-go.
    private static func namedEntries<Value>(
        _ list: YAMLField, key: String, file: String, parse: (YAMLField) throws -> Value
    ) throws -> [KubeconfigEntry<Value>] {
        var entries: [KubeconfigEntry<Value>] = []
        for item in try list.sequence() {
            let fields = try item.mapping(description: "a {name, \(key)} entry")
            guard let nameField = fields["name"], let name = try nameField.string(), !name.isEmpty else {
                throw ConfigurationError.invalidField(file: file, field: item.path + ".name", problem: "is missing")
            }
            if let earlier = entries.first(where: { $0.name == name }) {
                throw ConfigurationError.invalidField(
                    file: file, field: item.path + ".name",
                    problem: "repeats the name \"\(name)\" already used by \(earlier.path); rename or remove one")
            }
            let body = fields[key] ?? YAMLField(node: Yams.Node([(Yams.Node, Yams.Node)]()), path: item.path + "." + key, file: file)
            entries.append(KubeconfigEntry(name: name, value: try parse(body), file: file, path: item.path))
        }
        return entries
    }

    private static func parseCluster(_ field: YAMLField, directory: String) throws -> KubeconfigCluster {
        let fields = try field.mapping(description: "a cluster")
        var cluster = KubeconfigCluster()
        cluster.server = try fields["server"]?.string()
        cluster.certificateAuthority = try fields["certificate-authority"]?.path(relativeTo: directory)
        cluster.certificateAuthorityData = try fields["certificate-authority-data"]?.base64()
        cluster.insecureSkipTLSVerify = try fields["insecure-skip-tls-verify"]?.bool() ?? false
        cluster.tlsServerName = try fields["tls-server-name"]?.string()
        cluster.proxyURL = try fields["proxy-url"]?.string()
        cluster.disableCompression = try fields["disable-compression"]?.bool() ?? false
        if let extensions = fields["extensions"] {
            cluster.extensions = try parseExtensions(extensions)
        }
        return cluster
    }

    private static func parseExtensions(_ field: YAMLField) throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for item in try field.sequence() {
            let fields = try item.mapping(description: "a {name, extension} entry")
            guard let name = try fields["name"]?.string(), !name.isEmpty else {
                throw item.invalid(".name", "is missing")
            }
            result[name] = try fields["extension"]?.json() ?? .null
        }
        return result
    }

    private static func parseUser(_ field: YAMLField, directory: String) throws -> KubeconfigUser {
        let fields = try field.mapping(description: "a user")
        var user = KubeconfigUser()
        user.clientCertificate = try fields["client-certificate"]?.path(relativeTo: directory)
        user.clientCertificateData = try fields["client-certificate-data"]?.base64()
        user.clientKey = try fields["client-key"]?.path(relativeTo: directory)
        user.clientKeyData = try fields["client-key-data"]?.base64()
        user.token = try fields["token"]?.string()
        user.tokenFile = try fields["tokenFile"]?.path(relativeTo: directory)
        user.username = try fields["username"]?.string()
        user.password = try fields["password"]?.string()
        user.impersonate = try fields["as"]?.string()
        user.impersonateUID = try fields["as-uid"]?.string()
        user.impersonateGroups = try fields["as-groups"]?.stringList() ?? []
        if let extra = fields["as-user-extra"], !extra.isNull {
            for (key, values) in try extra.mapping(description: "a map of lists of strings").ordered {
                user.impersonateUserExtra[key] = try values.stringList()
            }
        }
        if let provider = fields["auth-provider"], !provider.isNull {
            let providerFields = try provider.mapping(description: "an auth provider")
            var config: [String: String] = [:]
            if let configField = providerFields["config"], !configField.isNull {
                for (key, value) in try configField.mapping(description: "a map of strings").ordered {
                    config[key] = try value.string() ?? ""
                }
            }
            user.authProvider = KubeconfigAuthProvider(name: try providerFields["name"]?.string() ?? "", config: config)
        }
        if let exec = fields["exec"], !exec.isNull {
            user.exec = try parseExec(exec, directory: directory)
        }
        return user
    }

    private static func parseExec(_ field: YAMLField, directory: String) throws -> KubeconfigExec {
        let fields = try field.mapping(description: "an exec plugin configuration")
        guard let apiVersion = try fields["apiVersion"]?.string(), !apiVersion.isEmpty else {
            throw field.invalid(".apiVersion", "is missing; use \(KubeconfigExec.v1)")
        }
        guard apiVersion == KubeconfigExec.v1 || apiVersion == KubeconfigExec.v1beta1 else {
            throw field.invalid(
                ".apiVersion", "is \"\(apiVersion)\"; use \(KubeconfigExec.v1) or \(KubeconfigExec.v1beta1)")
        }
        guard var command = try fields["command"]?.string(), !command.isEmpty else {
            throw field.invalid(".command", "is missing")
        }
        // client-go resolves the command against the kubeconfig's directory only when it is a
        // path; a bare name is looked up on PATH when the plugin runs.
        if command.contains("/") && !command.hasPrefix("/") {
            command = resolve(command, relativeTo: directory)
        }
        var exec = KubeconfigExec(apiVersion: apiVersion, command: command)
        exec.args = try fields["args"]?.stringList() ?? []
        if let env = fields["env"], !env.isNull {
            for item in try env.sequence() {
                let variable = try item.mapping(description: "a {name, value} entry")
                guard let name = try variable["name"]?.string(), !name.isEmpty else {
                    throw item.invalid(".name", "is missing")
                }
                exec.env.append(.init(name: name, value: try variable["value"]?.string() ?? ""))
            }
        }
        exec.installHint = try fields["installHint"]?.string()
        exec.provideClusterInfo = try fields["provideClusterInfo"]?.bool() ?? false
        if let modeField = fields["interactiveMode"], let modeText = try modeField.string(), !modeText.isEmpty {
            guard let mode = KubeconfigExec.InteractiveMode(rawValue: modeText) else {
                throw modeField.invalid("", "is \"\(modeText)\"; use Never, IfAvailable or Always")
            }
            exec.interactiveMode = mode
        }
        return exec
    }

    private static func parseContext(_ field: YAMLField) throws -> KubeconfigContext {
        let fields = try field.mapping(description: "a context")
        return KubeconfigContext(
            cluster: try fields["cluster"]?.string(),
            user: try fields["user"]?.string(),
            namespace: try fields["namespace"]?.string())
    }

    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.isEmpty || path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
    }
}

/// A YAML node and the field path that led to it, for typed reads with precise errors.
struct YAMLField {
    let node: Yams.Node
    let path: String
    let file: String

    func invalid(_ suffix: String, _ problem: String) -> ConfigurationError {
        .invalidField(file: file, field: path.isEmpty && suffix.isEmpty ? "the document" : path + suffix, problem: problem)
    }

    var isNull: Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any {
            return node.null != nil
        }
        return false
    }

    private var typeName: String {
        switch node {
        case .mapping: "a map"
        case .sequence: "a list"
        case .scalar: "a single value"
        case .alias: "an alias"
        }
    }

    /// The fields of a mapping (a null node is an empty mapping).
    func mapping(description: String) throws -> YAMLMapping {
        if isNull { return YAMLMapping(ordered: []) }
        guard case .mapping(let mapping) = node else {
            throw invalid("", "must be \(description), not \(typeName)")
        }
        var ordered: [(String, YAMLField)] = []
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            ordered.append((name, YAMLField(node: value, path: path.isEmpty ? name : path + "." + name, file: file)))
        }
        return YAMLMapping(ordered: ordered)
    }

    /// The items of a list (a null node is an empty list).
    func sequence() throws -> [YAMLField] {
        if isNull { return [] }
        guard case .sequence(let sequence) = node else {
            throw invalid("", "must be a list, not \(typeName)")
        }
        return sequence.enumerated().map { index, item in
            YAMLField(node: item, path: "\(path)[\(index)]", file: file)
        }
    }

    /// A scalar as text; `nil` for null. Numbers and booleans are accepted as their text.
    func string() throws -> String? {
        if isNull { return nil }
        guard case .scalar(let scalar) = node else {
            throw invalid("", "must be a string, not \(typeName)")
        }
        return scalar.string
    }

    func bool() throws -> Bool? {
        if isNull { return nil }
        guard case .scalar = node, let value = node.bool else {
            throw invalid("", "must be true or false")
        }
        return value
    }

    func stringList() throws -> [String] {
        try sequence().map { try $0.string() ?? "" }
    }

    /// A path, made absolute against `directory` when relative.
    func path(relativeTo directory: String) throws -> String? {
        guard let text = try string(), !text.isEmpty else { return nil }
        return KubeconfigParser.resolve(text, relativeTo: directory)
    }

    /// Standard base64 as Go decodes it into `[]byte` (line breaks tolerated).
    func base64() throws -> [UInt8]? {
        guard let text = try string(), !text.isEmpty else { return nil }
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw invalid("", "is not valid base64; encode the PEM file with `base64 -w0` or use the path field instead")
        }
        return Array(data)
    }

    /// Any subtree as JSON (extensions, preferences).
    func json() throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if isNull { return .null }
            if scalar.style == .plain || scalar.style == .any {
                if let bool = node.bool { return .bool(bool) }
                if let int = node.int { return .number(Double(int)) }
                if let double = node.float { return .number(double) }
            }
            return .string(scalar.string)
        case .sequence:
            return .array(try sequence().map { try $0.json() })
        case .mapping:
            var object: [String: JSONValue] = [:]
            for (key, value) in try mapping(description: "a map").ordered {
                object[key] = try value.json()
            }
            return .object(object)
        case .alias:
            return .null
        }
    }
}

/// The fields of a YAML mapping in file order.
struct YAMLMapping {
    let ordered: [(String, YAMLField)]

    subscript(key: String) -> YAMLField? {
        ordered.first { $0.0 == key }?.1
    }
}
