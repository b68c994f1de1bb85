/// Why pods are not Ready, in one sentence a user can act on, from what the cluster reports:
/// container waiting reasons (ImagePullBackOff with the registry's message, CrashLoopBackOff
/// with the last exit), unschedulable pods, and events such as FailedCreate (a ReplicaSet that
/// cannot make its pods: a quota, an admission webhook, a missing service account). Nil when
/// nothing explains it (the pods are simply still starting).
public enum PodTrouble {
    public static func describe(pods: [Pod], events: [Event] = []) -> String? {
        var reasons: [String] = []
        for pod in pods.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            let name = pod.metadata.name ?? "?"
            if let trouble = containerTrouble(pod) {
                reasons.append("pod \(name): \(trouble)")
            } else if let scheduled = pod.status?.conditions?.first(where: { $0.type == "PodScheduled" }), scheduled.status == "False" {
                reasons.append("pod \(name) cannot be scheduled: \(scheduled.message ?? scheduled.reason ?? "no node fits")")
            }
        }
        for event in events.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") })
        where event.type == "Warning" && ["FailedCreate", "FailedScheduling", "FailedMount", "Failed"].contains(event.reason ?? "") {
            let message = "\(event.involvedObject.kind ?? "object") \(event.involvedObject.name ?? "?"): \(event.reason ?? ""): \(event.message ?? "")"
            if !reasons.contains(message) { reasons.append(message) }
        }
        return reasons.isEmpty ? nil : reasons.prefix(3).joined(separator: "; ")
    }

    /// The first container (init containers first) that waits for a reason other than starting,
    /// or that keeps crashing.
    static func containerTrouble(_ pod: Pod) -> String? {
        let statuses = (pod.status?.initContainerStatuses ?? []) + (pod.status?.containerStatuses ?? [])
        for status in statuses {
            guard let waiting = status.state?.waiting, let reason = waiting.reason, reason != "ContainerCreating", reason != "PodInitializing" else {
                continue
            }
            var text = "container \(status.name) is \(reason)"
            if let message = waiting.message, !message.isEmpty { text += " (\(message))" }
            if reason == "CrashLoopBackOff", let last = status.lastState?.terminated {
                text += ", last exit code \(last.exitCode)\(last.reason.map { " (\($0))" } ?? "")"
            }
            return text
        }
        return nil
    }
}
