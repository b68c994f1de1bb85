import RPC

extension HTTPFilter {
    /// The filter of an engagement spec (nil when it has none: the engagement takes every connection).
    public init?(_ proto: Telepresence_Manager_HTTPFilter?) {
        guard let proto else { return nil }
        let filter = HTTPFilter(
            headers: proto.headers.map { Header(name: $0.name, value: $0.value) },
            pathEqual: proto.pathEqual, pathPrefix: proto.pathPrefix, pathRegex: proto.pathRegex)
        if filter.isEmpty { return nil }
        self = filter
    }

    public var proto: Telepresence_Manager_HTTPFilter {
        var proto = Telepresence_Manager_HTTPFilter()
        proto.headers = headers.map {
            var header = Telepresence_Manager_HTTPHeaderMatch()
            header.name = $0.name
            header.value = $0.value
            return header
        }
        proto.pathEqual = pathEqual ?? ""
        proto.pathPrefix = pathPrefix ?? ""
        proto.pathRegex = pathRegex ?? ""
        return proto
    }
}

extension Telepresence_Manager_InterceptSpec {
    /// The spec's filter, when it has one.
    public var filter: HTTPFilter? { hasHTTPFilter ? HTTPFilter(httpFilter) : nil }
}
