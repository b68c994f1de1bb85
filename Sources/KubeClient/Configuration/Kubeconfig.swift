import Foundation

/// A kubeconfig (`apiVersion: v1`, `kind: Config`): one file, or several merged with kubectl's
/// rules. Relative paths in it are already resolved against the directory of the file that
/// defined each entry, and every entry remembers where it came from for error messages.
public struct Kubeconfig: Sendable, Hashable {
    public var clusters: [KubeconfigEntry<KubeconfigCluster>]
    public var users: [KubeconfigEntry<KubeconfigUser>]
    public var contexts: [KubeconfigEntry<KubeconfigContext>]
    /// `current-context`, and the file that set it.
    public var currentContext: String?
    public var currentContextFile: String?
    /// `preferences`, kept as-is; nothing in it changes how a client connects.
    public var preferences: JSONValue?
    /// The files this configuration was read from, in precedence order.
    public var files: [String]
    /// The paths that were looked at, including missing ones (for "nothing found" messages).
    public var searchedFiles: [String] = []

    public init(
        clusters: [KubeconfigEntry<KubeconfigCluster>] = [],
        users: [KubeconfigEntry<KubeconfigUser>] = [],
        contexts: [KubeconfigEntry<KubeconfigContext>] = [],
        currentContext: String? = nil,
        currentContextFile: String? = nil,
        preferences: JSONValue? = nil,
        files: [String] = []
    ) {
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
        self.currentContextFile = currentContextFile
        self.preferences = preferences
        self.files = files
    }

    /// True when no file contributed anything a client could use.
    public var isEmpty: Bool {
        clusters.isEmpty && users.isEmpty && contexts.isEmpty && (currentContext ?? "").isEmpty
    }

    public func cluster(named name: String) -> KubeconfigEntry<KubeconfigCluster>? {
        clusters.first { $0.name == name }
    }

    public func user(named name: String) -> KubeconfigEntry<KubeconfigUser>? {
        users.first { $0.name == name }
    }

    public func context(named name: String) -> KubeconfigEntry<KubeconfigContext>? {
        contexts.first { $0.name == name }
    }
}

/// One named entry of `clusters`, `users` or `contexts`, with its origin.
public struct KubeconfigEntry<Value: Sendable & Hashable>: Sendable, Hashable {
    public var name: String
    public var value: Value
    /// The file that defined this entry.
    public var file: String
    /// Where in that file, e.g. `users[2]`; field paths in messages continue from here.
    public var path: String

    public init(name: String, value: Value, file: String, path: String) {
        self.name = name
        self.value = value
        self.file = file
        self.path = path
    }
}

/// `clusters[].cluster`.
public struct KubeconfigCluster: Sendable, Hashable {
    public var server: String?
    /// `certificate-authority`: an absolute path after loading.
    public var certificateAuthority: String?
    /// `certificate-authority-data`, decoded from base64 (PEM bytes).
    public var certificateAuthorityData: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    public var tlsServerName: String?
    public var proxyURL: String?
    public var disableCompression: Bool
    /// `extensions[]` by name; `client.authentication.k8s.io/exec` is handed to exec plugins.
    public var extensions: [String: JSONValue]

    public init(
        server: String? = nil,
        certificateAuthority: String? = nil,
        certificateAuthorityData: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false,
        tlsServerName: String? = nil,
        proxyURL: String? = nil,
        disableCompression: Bool = false,
        extensions: [String: JSONValue] = [:]
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.certificateAuthorityData = certificateAuthorityData
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.proxyURL = proxyURL
        self.disableCompression = disableCompression
        self.extensions = extensions
    }

    /// The name of the cluster extension passed to exec plugins as `spec.cluster.config`.
    public static let execExtensionName = "client.authentication.k8s.io/exec"
}

/// `users[].user` (an "AuthInfo" in client-go).
public struct KubeconfigUser: Sendable, Hashable {
    /// `client-certificate`: an absolute path after loading.
    public var clientCertificate: String?
    public var clientCertificateData: [UInt8]?
    /// `client-key`: an absolute path after loading.
    public var clientKey: String?
    public var clientKeyData: [UInt8]?
    public var token: String?
    /// `tokenFile`: an absolute path after loading.
    public var tokenFile: String?
    public var username: String?
    public var password: String?
    /// `as`, `as-uid`, `as-groups`, `as-user-extra`.
    public var impersonate: String?
    public var impersonateUID: String?
    public var impersonateGroups: [String]
    public var impersonateUserExtra: [String: [String]]
    public var authProvider: KubeconfigAuthProvider?
    public var exec: KubeconfigExec?

    public init(
        clientCertificate: String? = nil,
        clientCertificateData: [UInt8]? = nil,
        clientKey: String? = nil,
        clientKeyData: [UInt8]? = nil,
        token: String? = nil,
        tokenFile: String? = nil,
        username: String? = nil,
        password: String? = nil,
        impersonate: String? = nil,
        impersonateUID: String? = nil,
        impersonateGroups: [String] = [],
        impersonateUserExtra: [String: [String]] = [:],
        authProvider: KubeconfigAuthProvider? = nil,
        exec: KubeconfigExec? = nil
    ) {
        self.clientCertificate = clientCertificate
        self.clientCertificateData = clientCertificateData
        self.clientKey = clientKey
        self.clientKeyData = clientKeyData
        self.token = token
        self.tokenFile = tokenFile
        self.username = username
        self.password = password
        self.impersonate = impersonate
        self.impersonateUID = impersonateUID
        self.impersonateGroups = impersonateGroups
        self.impersonateUserExtra = impersonateUserExtra
        self.authProvider = authProvider
        self.exec = exec
    }
}

/// `users[].user.auth-provider`: legacy provider plugins, which this client does not run.
public struct KubeconfigAuthProvider: Sendable, Hashable {
    public var name: String
    public var config: [String: String]

    public init(name: String, config: [String: String] = [:]) {
        self.name = name
        self.config = config
    }
}

/// `users[].user.exec`: an exec credential plugin.
public struct KubeconfigExec: Sendable, Hashable {
    /// Whether the plugin may talk to the user on the terminal.
    public enum InteractiveMode: String, Sendable, Hashable {
        case never = "Never"
        case ifAvailable = "IfAvailable"
        case always = "Always"
    }

    /// One `env[]` item.
    public struct EnvironmentVariable: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`.
    public var apiVersion: String
    /// The executable: a name looked up on `PATH`, or a path (absolute after loading when the
    /// kubeconfig gave a relative one containing `/`).
    public var command: String
    public var args: [String]
    /// Added to the inherited environment, in order.
    public var env: [EnvironmentVariable]
    public var installHint: String?
    public var provideClusterInfo: Bool
    /// `nil` when the kubeconfig does not say; treated like `IfAvailable`.
    public var interactiveMode: InteractiveMode?

    public init(
        apiVersion: String,
        command: String,
        args: [String] = [],
        env: [EnvironmentVariable] = [],
        installHint: String? = nil,
        provideClusterInfo: Bool = false,
        interactiveMode: InteractiveMode? = nil
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.installHint = installHint
        self.provideClusterInfo = provideClusterInfo
        self.interactiveMode = interactiveMode
    }

    public static let v1 = "client.authentication.k8s.io/v1"
    public static let v1beta1 = "client.authentication.k8s.io/v1beta1"
}

/// `contexts[].context`.
public struct KubeconfigContext: Sendable, Hashable {
    public var cluster: String?
    public var user: String?
    public var namespace: String?

    public init(cluster: String? = nil, user: String? = nil, namespace: String? = nil) {
        self.cluster = cluster
        self.user = user
        self.namespace = namespace
    }
}
