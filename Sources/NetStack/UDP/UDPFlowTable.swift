/// The UDP flows seen recently, with the time of their last datagram either way, so idle ones
/// can expire and release whatever the owner attached to them (e.g. a tunnel stream).
struct UDPFlowTable {
    private(set) var lastActivity: [FlowID: UInt64] = [:]
    /// When the next scan for idle flows is due (nil while there are no flows).
    private(set) var nextCheck: UInt64?

    var count: Int { lastActivity.count }

    /// Records traffic; returns true when the flow is new.
    mutating func touch(_ id: FlowID, now: UInt64, idleTimeout: UInt64) -> Bool {
        let isNew = lastActivity.updateValue(now, forKey: id) == nil
        if nextCheck == nil { nextCheck = now + idleTimeout }
        return isNew
    }

    /// Removes and returns the flows idle for `idleTimeout` at `now`.
    mutating func expire(now: UInt64, idleTimeout: UInt64) -> [FlowID] {
        guard let check = nextCheck, check <= now else { return [] }
        var expired: [FlowID] = []
        var oldest = UInt64.max
        for (id, last) in lastActivity {
            if last + idleTimeout <= now {
                expired.append(id)
            } else {
                oldest = min(oldest, last)
            }
        }
        for id in expired { lastActivity[id] = nil }
        nextCheck = oldest == .max ? nil : oldest + idleTimeout
        return expired
    }
}
