/// One change seen by a watch.
///
/// Semantics of `relisted`: when the server no longer has the history the watch needs (410
/// Gone, or an ERROR event with code 410), the watch lists the resource again and emits
/// `.relisted` with every object that exists now, then continues from that list's
/// resourceVersion. A consumer keeping a cache replaces it with these items: objects missing
/// from the list were deleted while the history was lost (no DELETED event is synthesized).
public enum WatchEvent<Object: Decodable & Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// The server's progress marker: nothing before this resourceVersion is left to see.
    case bookmark(resourceVersion: String)
    /// An ERROR event other than 410 (the watch reconnects after it).
    case error(Status)
    /// All current objects after a relist (see above).
    case relisted([Object], resourceVersion: String)
}

/// One line of a watch stream: `{"type": "...", "object": {...}}`, decoded in a single pass.
struct WatchFrame<Object: Decodable & Sendable>: Decodable {
    enum Payload {
        case object(type: String, Object)
        case bookmark
        case error(Status)
    }

    let payload: Payload
    /// The resourceVersion of the object or bookmark, for resuming.
    let resourceVersion: String?

    private struct MetadataOnly: Decodable {
        struct Meta: Decodable { var resourceVersion: String? }
        var metadata: Meta?
    }

    private enum CodingKeys: String, CodingKey { case type, object }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ERROR":
            payload = .error(try container.decode(Status.self, forKey: .object))
            resourceVersion = nil
        case "BOOKMARK":
            payload = .bookmark
            resourceVersion = try container.decode(MetadataOnly.self, forKey: .object).metadata?.resourceVersion
        default:
            payload = .object(type: type, try container.decode(Object.self, forKey: .object))
            resourceVersion = try? container.decode(MetadataOnly.self, forKey: .object).metadata?.resourceVersion
        }
    }
}
