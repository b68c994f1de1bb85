import Foundation
import LinuxNet
import SandboxAPIServer
import SandboxNetwork

/// A pod's network: its own namespace with `eth0`, one end of a veth whose other end is on the
/// node's bridge, the pod IP as /16 and a default route via the bridge. Three `ip` runs (batch
/// mode), so a pod's network is ready in milliseconds.
struct PodNetwork: Sendable {
    let names: ClusterNames

    static func path(_ namespace: String) -> String { "/run/netns/\(namespace)" }

    func create(uid: String, address: String) async throws {
        let pod = names.podNamespace(uid: uid)
        let veth = names.podVeth(uid: uid)
        try await ip(["netns", "add", pod])
        do {
            try await ip(["-n", names.nodeNamespace, "-batch", "-"], input: """
                link add \(veth) type veth peer name \(ClusterNames.podInterface) netns \(pod)

                """ + ClusterTopology.attachPodVeth(veth))
            try await ip(["-n", pod, "-batch", "-"], input: """
                link set lo up
                addr add \(address)/16 dev \(ClusterNames.podInterface)
                link set \(ClusterNames.podInterface) up
                route add default via \(ClusterAddresses.nodeBridge)

                """)
        } catch {
            await remove(uid: uid)
            throw error
        }
    }

    /// One `ip` run (on a thread of its own, in the host's namespace; `-n` picks the target),
    /// killed after 10 s; a failure is the pod's start error.
    private func ip(_ arguments: [String], input: String? = nil) async throws {
        do {
            try await SystemTool.runOnOwnThread(["ip"] + arguments, input: input, timeout: .seconds(10))
        } catch {
            throw PodRuntimeError.failed("\(error)")
        }
    }

    /// Removes the namespace (its eth0 and the veth peer go with it once nothing holds it).
    func remove(uid: String) async {
        try? await ip(["-n", names.nodeNamespace, "link", "del", names.podVeth(uid: uid)])
        Self.removeNamespace(names.podNamespace(uid: uid))
    }

    /// What `ip netns del` does, without a process: detach the bind mount and remove the file.
    static func removeNamespace(_ name: String) {
        let path = path(name)
        _ = umount2(path, Int32(MNT_DETACH))
        _ = unlink(path)
    }

    /// Network namespaces of this machine (`ip netns list`).
    static func namespaces() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
    }
}
