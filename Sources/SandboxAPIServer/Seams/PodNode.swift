/// A node that runs pods, as the API server and its controllers see it: told of every pod
/// change, stopped with the server. The server knows no node by name; it makes one through
/// ``NodeMode`` once the API exists (the process node lives in `Node/` and plugs its runtime
/// and dialer into `api.node`).
public protocol PodNode: Sendable {
    /// Registers the Node object.
    func register()
    /// Reacts to a change of a pod (added, modified, deleted).
    func handle(_ event: StoreEvent)
    /// Stops every pod's processes.
    func shutdown() async
}

/// Which node runs the pods of an `APIServer`: the virtual node (pods Running and Ready at
/// once, without processes), or one made from the API and the cluster CA (`.process(options)`,
/// from the process node).
public struct NodeMode: Sendable {
    let make: (@Sendable (_ api: KubernetesAPI, _ caPEM: String) throws -> any PodNode)?

    /// Pods become Running and Ready at once, without processes (API and scale tests).
    public static let virtual = NodeMode(make: nil)

    public init(make: (@Sendable (_ api: KubernetesAPI, _ caPEM: String) throws -> any PodNode)?) {
        self.make = make
    }
}
