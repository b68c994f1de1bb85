import Testing

/// Every test that makes a namespace and a TUN, run one at a time so the throughput and
/// read-rate figures are not skewed by each other.
@Suite(.serialized, .enabled(if: NetworkTestEnvironment.shouldRun, "needs root, /dev/net/tun and ip netns"))
struct NetworkTests {}
