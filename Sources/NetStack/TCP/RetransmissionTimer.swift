/// The retransmission timeout from round-trip samples (RFC 6298), in nanoseconds.
struct RetransmissionTimer: Sendable {
    private(set) var smoothedRTT: UInt64?
    private(set) var rttVariance: UInt64 = 0
    private(set) var timeout: UInt64
    let minimum: UInt64
    let maximum: UInt64
    /// Consecutive expirations without progress; doubles the timeout each time.
    private(set) var backoff = 0

    init(initial: UInt64, minimum: UInt64, maximum: UInt64) {
        timeout = initial
        self.minimum = minimum
        self.maximum = maximum
    }

    /// A round-trip sample from a segment that was not retransmitted (Karn's rule).
    mutating func sample(_ rtt: UInt64) {
        if let srtt = smoothedRTT {
            let delta = srtt > rtt ? srtt - rtt : rtt - srtt
            rttVariance = (3 * rttVariance + delta) / 4
            smoothedRTT = (7 * srtt + rtt) / 8
        } else {
            smoothedRTT = rtt
            rttVariance = rtt / 2
        }
        let granularity: UInt64 = 1_000_000
        timeout = min(max(smoothedRTT! + max(granularity, 4 * rttVariance), minimum), maximum)
        backoff = 0
    }

    /// The timeout to arm now, with exponential backoff applied.
    var current: UInt64 { min(timeout << UInt64(min(backoff, 20)), maximum) }

    mutating func expired() { backoff += 1 }
    mutating func progressed() { backoff = 0 }
}
