import RPC

/// Who this workstation is when it arrives at the traffic-manager.
public struct ClientIdentity: Sendable, Equatable {
    /// user@host, shown in the manager's lists of clients.
    public var name: String
    /// A stable id of the workstation's install.
    public var installID: String
    public var version: String
    /// The connected namespace and the mapped ones (empty: all).
    public var namespace: String
    public var mappedNamespaces: [String]

    public init(name: String, installID: String, version: String, namespace: String, mappedNamespaces: [String]) {
        self.name = name
        self.installID = installID
        self.version = version
        self.namespace = namespace
        self.mappedNamespaces = mappedNamespaces
    }

    var wire: Telepresence_Manager_ClientInfo {
        .with {
            $0.name = name
            $0.installID = installID
            $0.product = "telepresence"
            $0.version = version
            $0.namespace = namespace
            $0.mappedNamespaces = mappedNamespaces
        }
    }
}
