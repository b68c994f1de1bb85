// The whole sandbox cluster in one import, for `sandbox-cluster`, the benchmark and the tests
// that start a cluster: the API server, the cluster network and the process node are modules of
// their own (one per layer), and this one only puts them in reach together.
@_exported import SandboxAPIMachinery
@_exported import SandboxAPIServer
@_exported import SandboxNetwork
@_exported import SandboxNode
