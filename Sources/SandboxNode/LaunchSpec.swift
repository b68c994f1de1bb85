import Foundation
import SandboxAPIServer
import SandboxNetwork

/// What the launcher (`sandbox-cluster container-exec SPEC`) needs to start one container
/// process, written by the node as JSON into the pod's state directory. The launcher runs as
/// the node's child, so the spec is the whole contract between the two processes.
public struct LaunchSpec: Codable, Sendable, Equatable {
    /// A bind mount made inside the container's private mount namespace.
    public struct Mount: Codable, Sendable, Equatable {
        /// A file or directory under the node's state directory.
        public var source: String
        /// Where the container sees it.
        public var target: String
        public var readOnly: Bool

        public init(source: String, target: String, readOnly: Bool) {
            self.source = source
            self.target = target
            self.readOnly = readOnly
        }
    }

    /// The pod's network namespace (`/run/netns/NAME`), for a new container.
    public var networkNamespace: String?
    /// A running container's pid whose namespaces an exec joins (instead of making new ones).
    public var joinPID: Int32?
    /// The pod's name, set as the hostname in the container's UTS namespace.
    public var hostname: String
    public var mounts: [Mount]
    /// `NAME=value` pairs, in order.
    public var environment: [String]
    /// argv; `arguments[0]` is looked up in the environment's PATH when it has no slash.
    public var arguments: [String]
    /// Empty: `/`.
    public var workingDirectory: String
    /// The node's pid: the launcher exits at once if its parent is already gone (the death
    /// signal would come too late to notice).
    public var parentPID: Int32
    /// Makes the process a session leader with stdin as its controlling terminal (exec `-t`).
    public var controllingTerminal: Bool
    /// An empty directory of the node's state the launcher may mount over (to rebuild `/`
    /// when a mount path's top-level directory does not exist on the host).
    public var scratchDirectory: String
    /// A descriptor (close-on-exec once the launcher runs) on which the launcher writes why it
    /// failed; its closing without a word tells the node the container's command was exec'd.
    public var statusDescriptor: Int32?

    public init(
        networkNamespace: String?, joinPID: Int32? = nil, hostname: String, mounts: [Mount], environment: [String],
        arguments: [String], workingDirectory: String, parentPID: Int32, controllingTerminal: Bool = false,
        scratchDirectory: String = "", statusDescriptor: Int32? = nil
    ) {
        self.statusDescriptor = statusDescriptor
        self.networkNamespace = networkNamespace
        self.joinPID = joinPID
        self.hostname = hostname
        self.mounts = mounts
        self.environment = environment
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.parentPID = parentPID
        self.controllingTerminal = controllingTerminal
        self.scratchDirectory = scratchDirectory
    }
}
