// swift-tools-version:6.1
// Telepresence in Swift. Targets follow docs/architecture.md: executables -> component
// libraries -> KubeClient/Tunnel/NetStack/DNS/RPC, arrows pointing one way.
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOWebSocket", package: "swift-nio"),
    .product(name: "NIOFoundationCompat", package: "swift-nio"),
    .product(name: "NIOSSL", package: "swift-nio-ssl"),
    .product(name: "NIOTLS", package: "swift-nio"),
]

let package = Package(
    name: "Telepresence",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "telepresence", targets: ["telepresence"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
        .executable(name: "sandbox-cluster", targets: ["sandbox-cluster"]),
        .library(name: "Tunnel", targets: ["Tunnel"]),
        .library(name: "SPDY", targets: ["SPDY"]),
        .executable(name: "traffic", targets: ["traffic"]),
        .library(name: "RPC", targets: ["RPC"]),
        .library(name: "TrafficManager", targets: ["TrafficManager"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Kubernetes API client: kubeconfig, auth, TLS, REST, watch, port-forward, exec.
        // The one place programs are started (posix_spawn): short helper runs, attached runs,
        // detached daemons, the sandbox node's launcher; waits never block the cooperative pool.
        .target(name: "ChildProcess", dependencies: ["CLinuxSupport"], exclude: ["README.md"]),
        // System calls Swift cannot import (setns, prctl, ioctl, pipe2, POSIX_SPAWN_SETSID).
        .target(name: "CLinuxSupport"),
        // TUN devices, network namespaces, the ip/nft tools: shared by VIF and the sandbox.
        .target(name: "LinuxNet", dependencies: ["CLinuxSupport", "ChildProcess", "NetworkAddress"], exclude: ["README.md"]),
        .target(
            name: "KubeClient",
            dependencies: nio + [
                "SPDY",
                "ChildProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md", "Configuration/README.md", "Auth/README.md", "Models/README.md", "Transport/README.md"]
        ),
        // Certificate authorities and leaf certificates made in process (sandbox API server,
        // webhook serving certs, test fixtures).
        .target(
            name: "PKI",
            dependencies: [
                "NetworkAddress",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "telepresence",
            dependencies: [
                "KubeClient",
                "ClientSupport",
                "HTTPRouting",
                "RPC",
                "UserDaemon",
                "RootDaemon",
                "ManagerInstall",
                "Diagnostics",
                "NetworkAddress",
                "ChildProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // DNS message codec, cluster-name routing, answer cache: pure, no I/O, no Foundation.
        .target(name: "DNS", dependencies: ["NetworkAddress"], exclude: ["README.md"]),
        // The DNS server on SwiftNIO: UDP and TCP listeners, forwarding to upstream resolvers.
        .target(
            name: "DNSServer",
            dependencies: [
                "DNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "DNSTests",
            dependencies: [
                "DNS", "DNSServer", "NetworkAddress", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // IPv4/IPv6 addresses and subnets: pure, imports nothing (not even Foundation).
        .target(name: "NetworkAddress", exclude: ["README.md"]),
        .testTarget(name: "NetworkAddressTests", dependencies: ["NetworkAddress", "TestSupport"]),
        // Userspace TCP/UDP over raw IP packets: a pure state machine, no I/O, no Foundation.
        .target(name: "NetStack", dependencies: ["NetworkAddress"], exclude: ["README.md"]),
        // The workstation's virtual network interface: TUN device, addresses, routes.
        .target(
            name: "VIF",
            dependencies: [
                "ChildProcess",
                "LinuxNet",
                "NetworkAddress",
                "NetStack",
                "Tunnel",
                "DNS",
                "DNSServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["README.md"]
        ),
        // Helpers shared by the test targets (deterministic randomness, running commands and built
        // executables, finding processes in /proc).
        .target(name: "TestSupport", dependencies: ["ChildProcess"], path: "Tests/TestSupport"),
        .testTarget(name: "NetStackTests", dependencies: ["NetStack", "NetworkAddress", "TestSupport"]),
        .testTarget(
            name: "VIFTests",
            dependencies: [
                "VIF", "LinuxNet", "NetStack", "NetworkAddress", "TestSupport", "Tunnel", "DNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The sandbox cluster (test infrastructure: no real cluster runs on our machines), one
        // module per layer. It imports no product module but KubeClient, the pure codecs and the
        // leaf utilities (LinuxNet, ChildProcess, Diagnostics, PKI).
        // The pure rules of the Kubernetes API: patches, selectors, names, defaults, tables, and
        // access (authentication, service-account tokens, RBAC, impersonation; Crypto for HMAC).
        .target(name: "SandboxAPIMachinery", dependencies: ["KubeClient", .product(name: "Crypto", package: "swift-crypto")]),
        // The API server: HTTPS, REST, store, watches, controllers, streams, webhooks, and the
        // seams through which a node and a network plug in.
        .target(
            name: "SandboxAPIServer",
            dependencies: nio + [
                "SandboxAPIMachinery", "KubeClient", "PKI", "NetworkAddress",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The cluster network as root: node and workstation namespaces, services, cluster DNS.
        .target(
            name: "SandboxNetwork",
            dependencies: nio + ["SandboxAPIServer", "KubeClient", "DNS", "NetworkAddress", "LinuxNet", "ChildProcess", "CLinuxSupport"]
        ),
        // The process node: pods as processes in network and mount namespaces.
        .target(
            name: "SandboxNode",
            dependencies: nio + [
                "SandboxAPIServer", "SandboxNetwork", "KubeClient", "NetworkAddress", "LinuxNet", "ChildProcess", "CLinuxSupport",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The whole cluster for tests, the benchmark and `sandbox-cluster`: the layers above.
        .target(name: "Sandbox", dependencies: ["SandboxAPIMachinery", "SandboxAPIServer", "SandboxNetwork", "SandboxNode"]),
        .executableTarget(
            name: "sandbox-cluster",
            dependencies: [
                "Sandbox", "Diagnostics", "ChildProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The test app image (`sandbox.local/echo`) of the process node: HTTP/1.1 and h2c echo, a
        // gRPC unary method, TCP and UDP echo; `grpc-call`, a gRPC client for tests.
        .executableTarget(
            name: "sandbox-echo",
            dependencies: [
                "HTTP2Cleartext",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP/2 cleartext on a connected channel (prior knowledge, and the h2c upgrade NIOHTTP2
        // lacks): shared by the agent's splitter and the echo app.
        .target(
            name: "HTTP2Cleartext",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "SandboxAPIMachinery", "SandboxAPIServer", "SandboxNetwork", "SandboxNode", "LinuxNet", "ChildProcess", "KubeClient", "PKI", "DNS", "NetworkAddress", "TestSupport"] + nio),
        // Data plane: many TCP/UDP flows multiplexed over one ordered byte stream (port-forward
        // or in-cluster TCP), with per-stream credit flow control; state machines without I/O,
        // NIO handlers only at the edge.
        .target(
            name: "Tunnel",
            dependencies: [
                "NetworkAddress",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["README.md"]
        ),
        // `tunnel-bench`: direct TCP vs the tunnel's framing (and raw HTTP/2 streams) on loopback.
        .executableTarget(
            name: "tunnel-bench",
            dependencies: [
                "Tunnel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/TunnelBench",
            exclude: ["README.md"]
        ),
        // `sandbox-bench`: list, watch and start-up figures of the sandbox API server (issue 3) and,
        // as root, the process node's start-up, pod and throughput figures (issue 4).
        .executableTarget(
            name: "sandbox-bench",
            dependencies: ["Sandbox", "KubeClient", "ChildProcess", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Benchmarks/SandboxBench",
            exclude: ["README.md"]
        ),
        // `vif-bench` (root): TUN device reads beside UDP socket reads of the same packets.
        .executableTarget(
            name: "vif-bench",
            dependencies: ["VIF", "LinuxNet", "NetworkAddress", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/VIFBench",
            exclude: ["README.md"]
        ),
        .testTarget(name: "TunnelTests", dependencies: ["Tunnel", "NetworkAddress", "TestSupport", .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "PKI", "SPDY", "TestSupport"]),
        .testTarget(name: "PKITests", dependencies: ["PKI"]),
        // zlib (Debian: zlib1g-dev) for SPDY header compression.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // SPDY/3.1 framing as kubectl port-forward (and exec <= 1.29) speaks it: frames, header
        // blocks, zlib with the SPDY/3 dictionary; pure codec, no I/O.
        .target(name: "SPDY", dependencies: ["CZlib"], exclude: ["README.md"]),
        .testTarget(name: "SPDYTests", dependencies: ["SPDY", "TestSupport"]),
        // KubeClient against the sandbox API server over real HTTPS.
        .testTarget(name: "KubeClientSandboxTests", dependencies: ["KubeClient", "Sandbox"]),
        // Drives the built executables as a user does.
        .testTarget(name: "EndToEndTests", dependencies: ["telepresence", "TestSupport"]),
        // The control plane's protos (Sources/RPC/protos) and the Swift code generated from them
        // by scripts/gen-grpc (committed; no build runs protoc).
        .target(
            name: "RPC",
            dependencies: [
                "NetworkAddress",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md", "protos"]
        ),
        // The product's version and the log level every process of ours can change at run time.
        .target(
            name: "Diagnostics",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"]
        ),
        // The traffic-manager: client sessions, cluster facts, workloads, over gRPC.
        // What the manager, its injector, the traffic-agent and its init container agree on: a
        // workload's agent config and the names of containers, volumes, annotations and ports.
        .target(name: "AgentConfig", exclude: ["README.md"]),
        // The agent injector: a workload's agent config from its Services, the injection decision
        // and the pod patch (pure), the rollout writes through KubeClient.
        .target(
            name: "AgentInjector",
            dependencies: ["AgentConfig", "KubeClient", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "AgentInjectorTests",
            dependencies: [
                "AgentInjector", "AgentConfig", "KubeClient", "Sandbox", "TestSupport", "TrafficManager", "ManagerInstall",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TrafficManager",
            dependencies: nio + [
                "AgentConfig", "AgentInjector", "RPC", "KubeClient", "Tunnel", "NetworkAddress", "DNS", "Diagnostics", "HTTPRouting",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // The traffic-agent (a sidecar in each engaged pod): its session with the manager, the
        // ports it takes over, the tunnels clients claim, and its init container's nft rules.
        // What an HTTP-filtered engagement takes: the filter the CLI parses, the manager checks for
        // overlaps and the agent matches, and the agent's readers of HTTP/1.1 and HTTP/2 (pure).
        .target(
            name: "HTTPRouting",
            dependencies: [
                "RPC",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "HTTPRoutingTests",
            dependencies: ["HTTPRouting", "RPC", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "TrafficAgent",
            dependencies: [
                "AgentConfig", "RPC", "Tunnel", "HTTPRouting", "NetworkAddress", "Diagnostics", "ChildProcess", "HTTP2Cleartext",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "TrafficAgentTests",
            dependencies: [
                "TrafficAgent", "AgentConfig", "RPC", "Tunnel", "NetworkAddress", "LinuxNet", "TestSupport", "traffic", "HTTPRouting",
                "HTTP2Cleartext", "sandbox-echo",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // `traffic manager`, `traffic agent` and `traffic agent-init`: the cluster-side executable.
        .executableTarget(
            name: "traffic",
            dependencies: [
                "TrafficManager", "TrafficAgent", "AgentConfig", "KubeClient", "Diagnostics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The workstation's processes, cut along process and privilege lines: what the CLI and
        // both daemons share (config.yml, paths, the daemons' clients, the socket gate, the domain
        // types of their APIs and the one place those become protobuf messages).
        .target(
            name: "ClientSupport",
            dependencies: [
                "RPC", "NetworkAddress", "ChildProcess", "HTTPRouting",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md"]
        ),
        // The user daemon (connector): kube credentials, the session with the traffic-manager,
        // the port-forward relays. No network device, no DNS configuration: that is the root
        // daemon's, and this module cannot import VIF.
        .target(
            name: "UserDaemon",
            dependencies: nio + [
                "ClientSupport", "ManagerInstall", "Diagnostics", "RPC", "KubeClient", "Tunnel", "NetworkAddress",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md", "Engagements/README.md"]
        ),
        // The root daemon: the TUN device, routes, the stack and the system DNS configuration.
        // It never reads a kube credential: it cannot import KubeClient.
        .target(
            name: "RootDaemon",
            dependencies: [
                "ClientSupport", "Diagnostics", "RPC", "VIF", "Tunnel", "NetworkAddress",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // `telepresence helm ...` without helm: values, manifests, the release record, the installer.
        .target(
            name: "ManagerInstall",
            dependencies: [
                "KubeClient", "Diagnostics", "AgentConfig", "AgentInjector", "PKI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "TrafficManagerTests",
            dependencies: [
                "TrafficManager", "AgentConfig", "RPC", "KubeClient", "Sandbox", "NetworkAddress", "DNS", "Diagnostics", "TestSupport", "ManagerInstall", "HTTPRouting",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "ClientSupport", "UserDaemon", "RootDaemon", "ManagerInstall", "Diagnostics", "TrafficManager", "RPC", "KubeClient", "Sandbox",
                "NetworkAddress", "telepresence", "traffic", "TestSupport", "Tunnel", "ChildProcess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Every target's folder has a README.md saying what it owns (scripts/module-graph checks it);
// none of them is a source file.
for target in package.targets where target.type != .system && !target.exclude.contains("README.md") {
    target.exclude.append("README.md")
}
