import ArgumentParser
import Foundation
import KubeClient

/// The Kubernetes flags every cluster-facing command takes, with kubectl's names and meaning.
struct KubeFlags: ParsableArguments {
    @Option(help: "Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "The name of the kubeconfig context to use.")
    var context: String?

    @Option(help: "The name of the kubeconfig cluster to use.")
    var cluster: String?

    @Option(help: "The name of the kubeconfig user to use.")
    var user: String?

    @Option(name: [.customShort("s"), .long], help: "The address and port of the Kubernetes API server.")
    var server: String?

    @Option(help: "Bearer token for authentication to the API server.")
    var token: String?

    @Option(help: "Path to a certificate file for the certificate authority.")
    var certificateAuthority: String?

    @Flag(help: "Do not check the server's certificate (insecure).")
    var insecureSkipTLSVerify = false

    @Option(help: "Server name to use for server certificate validation.")
    var tlsServerName: String?

    @Option(help: "How long to wait for a single server request (e.g. 30s, 1m; 0 waits forever).")
    var requestTimeout: String?

    @Option(name: .customLong("as"), help: "Username to impersonate for the operation.")
    var impersonateUser: String?

    @Option(name: .customLong("as-group"), help: "Group to impersonate for the operation (repeatable).")
    var impersonateGroups: [String] = []

    @Option(name: .customLong("as-uid"), help: "UID to impersonate for the operation.")
    var impersonateUID: String?

    func overrides(namespace: String? = nil) -> ConfigurationOverrides {
        ConfigurationOverrides(
            kubeconfig: kubeconfig, context: context, cluster: cluster, user: user,
            namespace: namespace, server: server, token: token,
            certificateAuthority: certificateAuthority,
            insecureSkipTLSVerify: insecureSkipTLSVerify ? true : nil,
            tlsServerName: tlsServerName, requestTimeout: requestTimeout,
            impersonateUser: impersonateUser, impersonateUID: impersonateUID,
            impersonateGroups: impersonateGroups.isEmpty ? nil : impersonateGroups)
    }

    /// The flags by kubectl's long names, as the user daemon's ConnectRequest carries them.
    var byName: [String: String] {
        var flags: [String: String] = [:]
        func put(_ name: String, _ value: String?) { if let value, !value.isEmpty { flags[name] = value } }
        put("kubeconfig", kubeconfig.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 })
        put("context", context)
        put("cluster", cluster)
        put("user", user)
        put("server", server)
        put("token", token)
        put("certificate-authority", certificateAuthority)
        if insecureSkipTLSVerify { flags["insecure-skip-tls-verify"] = "true" }
        put("tls-server-name", tlsServerName)
        put("request-timeout", requestTimeout)
        put("as", impersonateUser)
        put("as-uid", impersonateUID)
        if !impersonateGroups.isEmpty { flags["as-group"] = impersonateGroups.joined(separator: ",") }
        return flags
    }
}
