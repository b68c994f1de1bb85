import AgentInjector
import Diagnostics
import Foundation

/// The agent injector's settings in the manager: where the install mounted the webhook's serving
/// certificate, the port the webhook listens on, and the image agents run (the manager's own).
public struct AgentInjectorSettings: Sendable, Equatable {
    /// `tls.crt` and `tls.key` of Secret `mutator-webhook-tls` (`AGENT_INJECTOR_TLS_DIR`); no
    /// files there, no webhook.
    public var tlsDirectory: String
    /// The HTTPS port (`AGENT_INJECTOR_PORT`, the container port `https`; Service `agent-injector` 443 → it).
    public var port: Int
    /// The agent's image (`AGENT_IMAGE`): the manager's own image.
    public var agentImage: String

    public static let defaultTLSDirectory = "/var/run/secrets/tls"
    public static let defaultPort = 8443

    public init(
        tlsDirectory: String = defaultTLSDirectory, port: Int = defaultPort,
        agentImage: String = "ghcr.io/telepresence-swift/traffic:\(ProductVersion.current)"
    ) {
        self.tlsDirectory = tlsDirectory
        self.port = port
        self.agentImage = agentImage
    }

    public var certificatePath: String { tlsDirectory + "/tls.crt" }
    public var keyPath: String { tlsDirectory + "/tls.key" }

    /// Whether the install gave the manager a serving certificate.
    public var hasCertificate: Bool {
        FileManager.default.fileExists(atPath: certificatePath) && FileManager.default.fileExists(atPath: keyPath)
    }

    static func fromEnvironment(_ environment: [String: String]) throws(SettingsError) -> AgentInjectorSettings {
        var settings = AgentInjectorSettings()
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        if let directory = value("AGENT_INJECTOR_TLS_DIR") { settings.tlsDirectory = directory }
        if let port = value("AGENT_INJECTOR_PORT") {
            guard let number = Int(port), (0...65535).contains(number) else {
                throw .invalid(name: "AGENT_INJECTOR_PORT", value: port, expected: "a TCP port number")
            }
            settings.port = number
        }
        if let image = value("AGENT_IMAGE") { settings.agentImage = image }
        return settings
    }
}

extension ManagerSettings {
    /// What the injector and the engagements give `AgentConfigGenerator`: this manager's namespace,
    /// API port, log level and agent image.
    public var injectorSettings: InjectorSettings {
        InjectorSettings(managerNamespace: namespace, agentImage: agentInjector.agentImage, managerPort: serverPort, logLevel: logLevel)
    }
}
