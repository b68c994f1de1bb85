import Foundation
import SandboxAPIServer
import SandboxNetwork

/// How the process node runs pods.
public struct ProcessNodeOptions: Sendable {
    /// Names the cluster's network namespaces (the node namespace must exist).
    public var names: ClusterNames
    /// Pods' volumes, logs and launch specs live under `pods/` here; nothing is written
    /// elsewhere on the host.
    public var stateDirectory: URL
    /// The YAML image mapping (see `ImageCatalog`), if any.
    public var imageMappingFile: URL?
    /// Where `sandbox-cluster` (the launcher), `sandbox-echo` and `traffic` are; default: the
    /// directory of the running executable (the build directory, for tests too).
    public var executablesDirectory: URL
    /// The first restart of a crashed container waits this long, doubling each time up to
    /// `maximumBackOff` (Kubernetes: 10 s and 300 s). Tests make it short.
    public var restartBackOff: Duration
    public var maximumBackOff: Duration

    public init(
        cluster: String, stateDirectory: URL, imageMappingFile: URL? = nil, executablesDirectory: URL? = nil,
        restartBackOff: Duration = .seconds(10), maximumBackOff: Duration = .seconds(300)
    ) {
        self.names = ClusterNames(cluster: cluster)
        self.stateDirectory = stateDirectory
        self.imageMappingFile = imageMappingFile
        self.executablesDirectory = executablesDirectory ?? Self.runningExecutableDirectory
        self.restartBackOff = restartBackOff
        self.maximumBackOff = maximumBackOff
    }

    static var runningExecutableDirectory: URL {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent()
    }

    /// The launcher: `sandbox-cluster container-exec SPEC`.
    var launcher: String { executablesDirectory.appendingPathComponent("sandbox-cluster").path }

    /// The wait before restart number `restarts + 1` (the first restart is immediate, as the
    /// kubelet's back-off starts after it).
    func backOff(restarts: Int) -> Duration {
        guard restarts > 0 else { return .zero }
        var delay = restartBackOff
        for _ in 1..<min(restarts, 32) {
            delay *= 2
            if delay >= maximumBackOff { return maximumBackOff }
        }
        return min(delay, maximumBackOff)
    }
}

extension NodeMode {
    /// Pods run as processes in their own network and mount namespaces.
    public static func process(_ options: ProcessNodeOptions) -> NodeMode {
        NodeMode { api, caPEM in
            try ProcessNode(api: api, options: options, caPEM: caPEM) { message in print("process node: \(message)") }
        }
    }
}

extension APIServer {
    /// The process node, when the configuration asked for one.
    public var processNode: ProcessNode? { node as? ProcessNode }
}
