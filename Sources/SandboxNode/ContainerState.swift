import KubeClient
import SandboxAPIServer
import SandboxNetwork

/// The node's view of one container of a pod (its status, as `containerStatuses` shows it).
struct ContainerState: Sendable {
    enum Phase: Sendable, Equatable {
        case waiting(reason: String, message: String?)
        case running(startedAt: String)
        case terminated(exitCode: Int32, reason: String, startedAt: String, finishedAt: String)
    }

    let name: String
    let image: String
    let isInit: Bool
    var phase: Phase = .waiting(reason: "ContainerCreating", message: nil)
    var lastTerminated: Phase?
    var restartCount = 0
    var ready = false
    var started = false
    var process: ContainerProcess?
    /// What an exec into this container inherits.
    var environment: [String] = []
    var workingDirectory = ""

    // Plain switches: Swift 6.3.1's optimizer crashed (SIL ownership verifier, release builds)
    // on the `if case` expression forms of these once inlined into `podPhase()`'s closures.
    var isRunning: Bool {
        switch phase {
        case .running: return true
        default: return false
        }
    }

    var exitCode: Int32? {
        switch phase {
        case .terminated(let code, _, _, _): return code
        default: return nil
        }
    }

    func json(podUID: String) -> JSONValue {
        var status: JSONValue = [
            "name": .string(name), "image": .string(image), "imageID": .string("sandbox://\(image)"),
            "ready": .bool(ready), "restartCount": .number(Double(restartCount)), "started": .bool(started && isRunning),
            "state": Self.json(phase), "lastState": lastTerminated.map(Self.json) ?? [:],
        ]
        if let process, case .running = phase {
            status["containerID"] = .string("sandbox://\(podUID.prefix(8))-\(name)-\(process.pid)")
        } else if case .terminated = phase {
            status["containerID"] = .string("sandbox://\(podUID.prefix(8))-\(name)-\(restartCount)")
        }
        if isInit { status["started"] = .bool(isRunning) }
        return status
    }

    static func json(_ phase: Phase) -> JSONValue {
        switch phase {
        case .waiting(let reason, let message):
            var waiting: JSONValue = ["reason": .string(reason)]
            if let message { waiting["message"] = .string(message) }
            return ["waiting": waiting]
        case .running(let startedAt):
            return ["running": ["startedAt": .string(startedAt)]]
        case .terminated(let code, let reason, let startedAt, let finishedAt):
            return ["terminated": ["exitCode": .number(Double(code)), "reason": .string(reason),
                                   "startedAt": .string(startedAt), "finishedAt": .string(finishedAt)]]
        }
    }
}
