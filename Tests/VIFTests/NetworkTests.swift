import TestSupport
import Testing

/// Every test that makes a namespace and a TUN, run one at a time (the kernel's and NetStack's
/// threads would otherwise compete for two cores). Skipped without root, /dev/net/tun and
/// `ip netns`, failing under CI=true (each test's `HostRequirement.kernelNetwork.require()`).
@Suite(.serialized, .enabled(where: .kernelNetwork))
struct NetworkTests {}
