import ArgumentParser

/// What runs the pods. `process` (the default) makes the cluster network (node and workstation
/// namespaces, service rules, cluster DNS; needs root) for the process node; `virtual` runs
/// the API server alone, pods Running without processes, no root needed. The process node runs
/// each pod in its own network and mount namespaces, attached to the node namespace's bridge.
enum NodeKind: String, ExpressibleByArgument, CaseIterable {
    case process
    case virtual
}
