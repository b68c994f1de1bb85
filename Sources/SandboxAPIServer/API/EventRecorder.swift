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
        // Named as client-go's recorder names events, `<object>.<nanoseconds in hex>`: a valid
        // DNS subdomain (a generateName of `<object>.` is not one, and the server refuses it).
        var prefix = Substring(name.lowercased())
        while let last = prefix.last, last == "-" || last == "." { prefix = prefix.dropLast() }
        let nanos = UInt64(max(0, Date().timeIntervalSince1970 * 1e9))
        var involved: JSONValue = ["apiVersion": "v1", "kind": .string(kind), "name": .string(name), "namespace": .string(namespace)]
        if let uid { involved["uid"] = .string(uid) }
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(prefix).\(String(nanos, radix: 16))"), "namespace": .string(namespace)],
            "involvedObject": involved, "reason": .string(note.reason), "message": .string(note.message),
            "type": .string(note.type), "source": ["component": .string(component)], "reportingComponent": .string(component),
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ]
        if (try? createObject(ResourceCatalog.events, event)) == nil {
            // Two events in the same nanosecond: the second takes the next one.
            var again = event
            again["metadata"]?["name"] = .string("\(prefix).\(String(nanos + 1, radix: 16))")
            _ = try? createObject(ResourceCatalog.events, again)
        }
    }
}
