import KubeClient
import Logging

/// Which namespaces the workstation maps (their `svc.ns` names resolve): the ones asked for
/// (`--mapped-namespaces`, else `cluster.mappedNamespaces` in config.yml), else every namespace
/// the user may list, as Telepresence does, followed while connected. A user who may not list
/// namespaces (a developer with only Roles) gets the connected and the manager's namespace and
/// is told once, in a note, how to map more.
struct NamespaceMapping: Sendable {
    /// The namespaces mapped now and, when they were not given, whether they follow the cluster's.
    var namespaces: [String]
    var followsCluster: Bool
    /// The listing's version, where a watch of changes starts.
    var resourceVersion: String?
    /// Said once to the user (not an error).
    var note: String?

    static func resolve(
        requested: [String], configured: [String]?, client: KubeClient, connected: String, manager: String, logger: Logger
    ) async -> NamespaceMapping {
        if !requested.isEmpty { return NamespaceMapping(namespaces: requested, followsCluster: false) }
        if let configured, !configured.isEmpty { return NamespaceMapping(namespaces: configured, followsCluster: false) }
        do {
            let list: KubeList<Namespace> = try await client.listAll(.namespaces)
            return NamespaceMapping(
                namespaces: Self.names(list.items), followsCluster: true, resourceVersion: list.metadata.resourceVersion)
        } catch {
            let fallback = Self.fallback(connected: connected, manager: manager)
            let why = (error as? KubeError)?.isForbidden == true
                ? "you may not list the cluster's namespaces"
                : "the cluster's namespaces could not be listed (\(error))"
            logger.info("\(why); mapping \(fallback.joined(separator: " ")) only")
            return NamespaceMapping(
                namespaces: fallback, followsCluster: false,
                note: "\(why), so svc.ns names resolve in \(fallback.joined(separator: " and ")) only; name others with --mapped-namespaces")
        }
    }

    static func fallback(connected: String, manager: String) -> [String] {
        connected == manager ? [connected] : [connected, manager]
    }

    static func names(_ namespaces: [Namespace]) -> [String] {
        namespaces.compactMap { $0.metadata.deletionTimestamp == nil ? $0.metadata.name : nil }.sorted()
    }

    /// Follows the cluster's namespaces (added and deleted ones), calling `changed` with the
    /// whole sorted list after each change, until cancelled or the watch is refused.
    func follow(client: KubeClient, logger: Logger, changed: @escaping @Sendable ([String]) async -> Void) async {
        guard followsCluster else { return }
        // Names only matter: the listing's names stand in for the objects until events replace them.
        var current: [String: Namespace] = Dictionary(
            namespaces.map { ($0, Namespace(metadata: ObjectMeta(name: $0))) }, uniquingKeysWith: { $1 })
        var last = namespaces
        do {
            let options = WatchOptions(resourceVersion: resourceVersion)
            for try await event in client.watch(.namespaces, options: options, as: Namespace.self) {
                switch event {
                case .added(let namespace), .modified(let namespace):
                    current[namespace.metadata.name ?? ""] = namespace
                case .deleted(let namespace):
                    current.removeValue(forKey: namespace.metadata.name ?? "")
                case .relisted(let all, _):
                    current = Dictionary(all.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { $1 })
                case .bookmark, .error:
                    continue
                }
                let names = Self.names(Array(current.values))
                if names != last, !names.isEmpty {
                    last = names
                    await changed(names)
                }
            }
        } catch {
            if !Task.isCancelled { logger.info("the watch of namespaces ended: \(error)") }
        }
    }
}
