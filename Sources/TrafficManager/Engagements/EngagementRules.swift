import HTTPRouting
import RPC

/// Which engagements of a workload cannot coexist, and every engagement in words. Pure.
///
/// - An unfiltered intercept conflicts with any other intercept of its port; two filtered
///   intercepts of a port only when their filters overlap (`HTTPFilter.overlaps`).
/// - A replace holds its container: it conflicts with any intercept of that container's ports and
///   with another replace of the container (one per container).
/// - Wiretaps and ingests never conflict.
enum EngagementRules {
    /// The engagement among `existing` that `spec` may not coexist with, if any.
    static func conflict(
        of spec: Telepresence_Manager_InterceptSpec, among existing: [EngagementState.Intercept]
    ) -> EngagementState.Intercept? {
        let kind = spec.engagementKind ?? .intercept
        // The oldest holder is named when several conflict, whatever order they come in.
        let ordered = existing.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
        return ordered.first { other in
            guard other.spec.namespace == spec.namespace, other.spec.agent == spec.agent else { return false }
            let otherKind = other.spec.engagementKind ?? .intercept
            switch (kind, otherKind) {
            case (.intercept, .intercept):
                guard samePort(spec, other.spec) else { return false }
                guard let mine = spec.filter, let theirs = other.spec.filter else { return true }
                return mine.overlaps(theirs)
            case (.intercept, .replace), (.replace, .intercept), (.replace, .replace):
                return spec.containerName == other.spec.containerName
            default:
                return false
            }
        }
    }

    static func samePort(_ a: Telepresence_Manager_InterceptSpec, _ b: Telepresence_Manager_InterceptSpec) -> Bool {
        a.namespace == b.namespace && a.agent == b.agent && a.containerPort == b.containerPort
            && a.protocol.uppercased() == b.protocol.uppercased()
    }

    /// What `spec` engages, as the subject of a refusal: `port 8080 of deployment echo` (with
    /// `/UDP` for UDP ports), or `container echo of deployment echo` when a replace is involved
    /// (or `spec` is an ingest, which holds no port).
    static func subject(_ spec: Telepresence_Manager_InterceptSpec, holder: Telepresence_Manager_InterceptSpec) -> String {
        let kind = spec.workloadKind.isEmpty ? "workload" : spec.workloadKind.lowercased()
        if spec.engagementKind == .replace || spec.engagementKind == .ingest || holder.engagementKind == .replace {
            return "container \(spec.containerName) of \(kind) \(spec.agent)"
        }
        let proto = spec.protocol.uppercased() == "UDP" ? "/UDP" : ""
        return "port \(spec.containerPort)\(proto) of \(kind) \(spec.agent)"
    }

    /// What an engagement does, for `list` and `status` (InterceptInfo.description).
    static func description(_ spec: Telepresence_Manager_InterceptSpec) -> String {
        let everything = spec.protocol.uppercased() == "UDP" ? "all UDP datagrams" : "all TCP connections"
        switch spec.engagementKind ?? .intercept {
        case .intercept:
            return spec.filter?.description ?? everything
        case .wiretap:
            return "a copy of " + (spec.filter?.description ?? everything)
        case .replace:
            let ports = spec.replacedPorts.map { "\($0.containerPort)/\($0.protocol.isEmpty ? "TCP" : $0.protocol.uppercased())" }
            return ports.isEmpty ? "replaced: no ports" : "replaced: ports " + ports.joined(separator: ", ")
        case .ingest:
            return "environment and mounts only"
        }
    }

    /// The verb of a refusal: what the holder does to the subject.
    static func verb(_ spec: Telepresence_Manager_InterceptSpec) -> String {
        spec.engagementKind == .replace ? "replaced" : "intercepted"
    }
}
