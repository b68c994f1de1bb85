/// What a `connect` came to: connected now, connected before with the same parameters, or a
/// failure the CLI prints as one sentence.
public enum ConnectOutcome: Sendable, Equatable {
    case connected(ConnectionInfo)
    case alreadyConnected(ConnectionInfo)
    case failed(ConnectFailure)

    /// The connection, when there is one.
    public var connection: ConnectionInfo? {
        switch self {
        case .connected(let info), .alreadyConnected(let info): info
        case .failed: nil
        }
    }
}

/// Why `connect` did not connect, in the categories Telepresence's CLI tells apart, and the
/// sentence that says what to do next.
public struct ConnectFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Connected elsewhere before this call: quit first.
        case mustRestart
        /// The kubeconfig or flags are not usable (unknown context, missing file).
        case clusterConfig
        /// The API server did not answer or refused.
        case clusterFailed
        /// No traffic-manager in the manager namespace.
        case managerNotInstalled
        /// The manager is installed but could not be reached or refused the session.
        case trafficManagerFailed
        /// The root daemon could not join the workstation's network.
        case daemonFailed
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
