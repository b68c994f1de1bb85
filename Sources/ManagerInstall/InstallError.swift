/// Why an install, upgrade or uninstall of the traffic-manager did not happen; each prints as
/// one sentence that says what to do.
public enum InstallError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidSet(String, reason: String)
    case unknownValue(String, known: [String])
    case invalidValues(String)
    case valuesFile(path: String, reason: String)
    case alreadyInstalled(namespace: String, revision: Int)
    case notInstalled(namespace: String)
    case namespaceMissing(String)
    case apiFailed(what: String, reason: String)
    case timedOut(what: String, seconds: Int)
    /// Installed, but the traffic-manager did not become ready.
    case notReady(namespace: String, reason: String)

    public var description: String {
        switch self {
        case .invalidSet(let assignment, let reason):
            "--set \(assignment) cannot be used: \(reason)"
        case .unknownValue(let path, let known):
            "the traffic-manager has no value \(path); known values here are: \(known.joined(separator: ", "))"
        case .invalidValues(let reason):
            "the values are not valid: \(reason); fix them with --set or -f"
        case .valuesFile(let path, let reason):
            "the values file \(path) cannot be used: \(reason)"
        case .alreadyInstalled(let namespace, let revision):
            "the traffic-manager is already installed in namespace \(namespace) (revision \(revision)); use 'telepresence helm upgrade' to change it"
        case .notInstalled(let namespace):
            "the traffic-manager is not installed in namespace \(namespace); run 'telepresence helm install' (or pass --namespace with the namespace it is in)"
        case .namespaceMissing(let namespace):
            "namespace \(namespace) does not exist; create it or pass --create-namespace"
        case .apiFailed(let what, let reason):
            "\(what) failed: \(reason)"
        case .notReady(let namespace, let reason):
            "the traffic-manager in namespace \(namespace) is installed but not ready: \(reason); see 'kubectl -n \(namespace) describe pod -l \(ManagerManifests.selectorString)'"
        case .timedOut(let what, let seconds):
            "\(what) did not finish within \(seconds) s; check the cluster with 'kubectl get all -n <namespace>' and try again"
        }
    }
}
