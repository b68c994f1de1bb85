/// What to do with one query.
public enum DNSResponderDecision: Sendable, Hashable {
    /// Send this response to the client.
    case answer(DNSMessage)
    /// Not ours: forward the query unchanged to the workstation's original resolvers.
    case forwardUpstream
}

/// Turns a query into a response or a decision to forward it: routes with `ClusterDNSResolver`,
/// answers cluster names through `ClusterAnswerCache`, and shapes the response (question case
/// kept, owner names rewritten to the asked name, served TTLs, SOA on negative answers, OPT
/// echoed). No sockets here; the NIO server and the tests drive it alike.
public actor ClusterDNSResponder {
    private var resolver: ClusterDNSResolver
    /// The cache, exposed so the owner can invalidate when services change.
    public let cache: ClusterAnswerCache
    /// The UDP payload size this server advertises in its OPT records.
    public let advertisedUDPPayloadSize: UInt16

    public init(config: ClusterDNSConfig, cache: ClusterAnswerCache, advertisedUDPPayloadSize: UInt16 = 1232) {
        resolver = ClusterDNSResolver(config: config)
        self.cache = cache
        self.advertisedUDPPayloadSize = advertisedUDPPayloadSize
    }

    /// The configuration in force.
    public var config: ClusterDNSConfig { resolver.config }

    /// Replaces the configuration (namespaces, subnets, search domains) and forgets all answers.
    public func update(config: ClusterDNSConfig) async {
        resolver.config = config
        await cache.invalidateAll()
    }

    /// The response to `query`, or `.forwardUpstream`.
    public func respond(to query: DNSMessage) async -> DNSResponderDecision {
        guard query.header.opcode == 0 else { return .answer(query.makeResponse(rcode: .notImplemented, udpPayloadSize: advertisedUDPPayloadSize)) }
        guard query.questions.count == 1, let question = query.questions.first else {
            return .answer(query.makeResponse(rcode: .formatError, udpPayloadSize: advertisedUDPPayloadSize))
        }
        let config = resolver.config
        switch resolver.route(question) {
        case .upstream:
            return .forwardUpstream
        case .nameError:
            return .answer(negative(query, question: question, rcode: .nameError, config: config))
        case .local(let records):
            var response = query.makeResponse(udpPayloadSize: advertisedUDPPayloadSize)
            response.header.isAuthoritative = true
            response.answers = records
            return .answer(response)
        case .cluster(let clusterQuery):
            switch await cache.answer(for: clusterQuery) {
            case .failure:
                return .answer(query.makeResponse(rcode: .serverFailure, udpPayloadSize: advertisedUDPPayloadSize))
            case .nameError:
                if clusterQuery.fallsBackToUpstream { return .forwardUpstream }
                return .answer(negative(query, question: question, rcode: .nameError, config: config))
            case .records(let records):
                if records.isEmpty {
                    return .answer(negative(query, question: question, rcode: .noError, config: config))
                }
                var response = query.makeResponse(udpPayloadSize: advertisedUDPPayloadSize)
                response.header.isAuthoritative = true
                response.answers = records.map { record in
                    var record = record
                    // The client asked for its own spelling (`web`, `web.shop`); it must find
                    // that name in the answer, not the expanded one.
                    if record.name == clusterQuery.name { record.name = question.name }
                    return record
                }
                return .answer(response)
            }
        }
    }

    /// NXDOMAIN or NODATA with an SOA in the authority section, so resolvers cache the negative
    /// answer only for the served TTL (RFC 2308).
    private func negative(_ query: DNSMessage, question: DNSQuestion, rcode: DNSResponseCode, config: ClusterDNSConfig) -> DNSMessage {
        var response = query.makeResponse(rcode: rcode, udpPayloadSize: advertisedUDPPayloadSize)
        response.header.isAuthoritative = true
        let zone: DNSName
        if question.name.hasSuffix(config.clusterDomain) {
            zone = config.clusterDomain
        } else if let synthetic = config.syntheticSearchDomain, question.name.hasSuffix(synthetic) {
            zone = synthetic
        } else {
            zone = question.name.dropFirst(max(0, question.name.labels.count - 1))
        }
        let ttl = cache.policy.servedTTL
        let soa = SOAData(
            primaryServer: (try? DNSName("ns.dns").appending(zone)) ?? zone,
            responsibleMailbox: (try? DNSName("hostmaster").appending(zone)) ?? zone,
            serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl
        )
        response.authorities = [ResourceRecord(name: zone, ttl: ttl, data: .soa(soa))]
        return response
    }
}
