import KubeClient

/// Which container of a pod a `log` or `exec` request means, with the API server's errors.
enum ContainerChoice {
    static let defaultAnnotation = "kubectl.kubernetes.io/default-container"

    static func names(_ pod: JSONValue, _ key: String) -> [String] {
        (pod["spec"]?[key]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    /// The requested container, checked against the pod; when none is requested, the
    /// default-container annotation, the only container, or (`firstWhenMany`) the first one;
    /// otherwise Kubernetes' 400 listing the choices.
    static func resolve(pod: JSONValue, requested: String?, firstWhenMany: Bool) throws(APIError) -> String {
        let podName = pod["metadata"]?["name"]?.stringValue ?? ""
        let containers = names(pod, "containers")
        let initContainers = names(pod, "initContainers")
        let ephemeral = names(pod, "ephemeralContainers")
        if let requested, !requested.isEmpty {
            guard containers.contains(requested) || initContainers.contains(requested) || ephemeral.contains(requested) else {
                throw APIError.badRequest("container \(requested) is not valid for pod \(podName)")
            }
            return requested
        }
        if let annotated = pod["metadata"]?["annotations"]?[defaultAnnotation]?.stringValue, containers.contains(annotated) {
            return annotated
        }
        if containers.count == 1 || (firstWhenMany && !containers.isEmpty) { return containers[0] }
        var message = "a container name must be specified for pod \(podName), choose one of: [\(containers.joined(separator: " "))]"
        if !initContainers.isEmpty { message += " or one of the init containers: [\(initContainers.joined(separator: " "))]" }
        throw APIError.badRequest(message)
    }

    /// The container's status entry (regular, init or ephemeral), if the node reported one.
    static func status(_ pod: JSONValue, container: String) -> JSONValue? {
        for key in ["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"] {
            if let entry = pod["status"]?[key]?.arrayValue?.first(where: { $0["name"]?.stringValue == container }) {
                return entry
            }
        }
        return nil
    }
}
