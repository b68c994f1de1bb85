import Foundation

enum ClusterError: Error, CustomStringConvertible {
    case alreadyRunning(String, pid: Int32)
    case notReady(String, log: String)
    case spawnFailed(Int32)
    case notRunning(String)
    case serveFailed(String, reason: String, log: String)
    case noNetwork(String)
    case noWorkstation(String, workstation: String)

    var description: String {
        switch self {
        case .alreadyRunning(let name, let pid):
            "cluster '\(name)' already runs (pid \(pid)); stop it with 'sandbox-cluster down --name \(name)' or pick another --name"
        case .notReady(let name, let log):
            "cluster '\(name)' did not become ready within \(Int(Up.readyTimeout)) seconds; see \(log)"
        case .spawnFailed(let code):
            "could not start the server process (posix_spawn error \(code)); check that the executable is readable"
        case .serveFailed(let name, let reason, let log):
            "cluster '\(name)' could not start: \(reason) (log: \(log))"
        case .notRunning(let name):
            "cluster '\(name)' is not running; start it with 'sandbox-cluster up --name \(name)'"
        case .noNetwork(let name):
            "cluster '\(name)' runs without a network ('--node virtual'), so it has no workstation namespace; restart it with 'sandbox-cluster up --name \(name)' as root"
        case .noWorkstation(let name, let workstation):
            "cluster '\(name)' has no workstation '\(workstation)'; add it with 'sandbox-cluster workstation add --name \(name) \(workstation)'"
        }
    }
}
