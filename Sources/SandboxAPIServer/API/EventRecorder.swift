import Foundation
import KubeClient

/// Writes core/v1 Events, as the components of a real cluster do, so `kubectl get events` and
/// `kubectl describe` show what happened to an object.
extension KubernetesAPI {
    struct EventNote: Sendable {
        var type: String  // Normal, Warning
        var reason: String
        var message: String
    }

    /// Records `note` about the object `kind/name` in `namespace` (best effort: an event that
    /// cannot be stored never fails the operation it describes).
    func recordEvent(_ note: EventNote, kind: String, name: String, namespace: String, uid: String? = nil, component: String) {
        let now = Timestamp.now()
        var involved: JSONValue = ["apiVersion": "v1", "kind": .string(kind), "name": .string(name), "namespace": .string(namespace)]
        if let uid { involved["uid"] = .string(uid) }
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["generateName": .string("\(name).".lowercased()), "namespace": .string(namespace)],
            "involvedObject": involved, "reason": .string(note.reason), "message": .string(note.message),
            "type": .string(note.type), "source": ["component": .string(component)], "reportingComponent": .string(component),
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ]
        _ = try? createObject(ResourceCatalog.events, event)
    }
}
