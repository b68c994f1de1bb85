import Foundation
import KubeClient
import NIOCore

/// What the API layer answers to a WebSocket upgrade on a streaming subresource.
enum StreamAnswer: Sendable {
    /// A normal HTTP answer (a Status), after which the connection closes.
    case reject(status: Int, body: [UInt8])
    /// Switch protocols (answering `subprotocol`, none when nil) and run `session`.
    case accept(subprotocol: String?, session: StreamSession)

    static func error(_ error: APIError) -> StreamAnswer {
        .reject(status: error.code, body: JSONBytes.encode(error.status))
    }

    /// Releases what an accepted session holds when the client left before it could start.
    func abandon() {
        if case .accept(_, let session) = self { session.abandon() }
    }
}

/// A streaming session ready to run on an upgraded connection.
enum StreamSession: Sendable {
    case portForward(PortForwardPlan)
    case exec(ExecPlan)

    /// The handler that runs the session; it sits after the WebSocket codec and reads frames.
    func makeHandler(channel: any Channel) -> any ChannelHandler {
        switch self {
        case .portForward(let plan): PortForwardSession(plan: plan)
        case .exec(let plan): ExecSession(plan: plan)
        }
    }

    func abandon() {
        if case .exec(let plan) = self { plan.closeDescriptors() }
    }
}

/// A port-forward the API layer accepted: the pod and the ports to connect to.
struct PortForwardPlan: Sendable {
    var namespace: String
    var pod: String
    var uid: String
    var ports: [Int]
    var runtime: any PodRuntime
}

/// The exec channel-protocol versions, newest first. v4 adds the JSON Status with exit codes on
/// channel 3, v5 the close message (`[255, channel]`) that half-closes stdin.
enum ExecProtocolVersion: String, Sendable, CaseIterable {
    case v5 = "v5.channel.k8s.io"
    case v4 = "v4.channel.k8s.io"
    case v3 = "v3.channel.k8s.io"
    case v2 = "v2.channel.k8s.io"
    case v1 = "channel.k8s.io"

    var hasStatusJSON: Bool { self == .v5 || self == .v4 }
    var hasClose: Bool { self == .v5 }
}

/// An exec the API layer accepted: the started process (or why it could not start, reported on
/// the status channel as the kubelet does) and what the client asked to see.
struct ExecPlan: Sendable {
    var version: ExecProtocolVersion
    var command: [String]
    var process: ExecProcess?
    /// Set when the process could not start: the message for the status channel.
    var startFailure: String?
    var stdin: Bool
    var stdout: Bool
    var stderr: Bool
    var tty: Bool

    func closeDescriptors() {
        guard let process else { return }
        var seen = Set<Int32>()
        for fd in [process.stdin, process.stdout, process.stderr].compactMap({ $0 }) where seen.insert(fd).inserted {
            close(fd)
        }
    }
}
