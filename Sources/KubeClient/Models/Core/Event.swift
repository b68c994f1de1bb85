/// An Event (`v1`, core group): something that happened to an object, such as a failed image
/// pull. `eventTime` carries microseconds; the older timestamps whole seconds.
public struct Event: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "Event"
    public static let plural = "events"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    /// A short machine-readable cause, e.g. `FailedScheduling`.
    public var reason: String?
    public var message: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var count: Int?
    public var firstTimestamp: KubeTime?
    public var lastTimestamp: KubeTime?
    public var eventTime: KubeMicroTime?
    public var series: EventSeries?
    public var source: EventSource?
    public var action: String?
    public var related: ObjectReference?
    public var reportingComponent: String?
    public var reportingInstance: String?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), involvedObject: ObjectReference, reason: String? = nil,
        message: String? = nil, type: String? = nil, count: Int? = nil, firstTimestamp: KubeTime? = nil,
        lastTimestamp: KubeTime? = nil, eventTime: KubeMicroTime? = nil, series: EventSeries? = nil,
        source: EventSource? = nil, action: String? = nil, related: ObjectReference? = nil,
        reportingComponent: String? = nil, reportingInstance: String? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.count = count
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.eventTime = eventTime
        self.series = series
        self.source = source
        self.action = action
        self.related = related
        self.reportingComponent = reportingComponent
        self.reportingInstance = reportingInstance
    }
}

/// The component that reported an Event.
public struct EventSource: Codable, Sendable, Hashable {
    public var component: String?
    public var host: String?

    public init(component: String? = nil, host: String? = nil) {
        self.component = component
        self.host = host
    }
}

/// Repetitions of an Event.
public struct EventSeries: Codable, Sendable, Hashable {
    public var count: Int?
    public var lastObservedTime: KubeMicroTime?

    public init(count: Int? = nil, lastObservedTime: KubeMicroTime? = nil) {
        self.count = count
        self.lastObservedTime = lastObservedTime
    }
}
