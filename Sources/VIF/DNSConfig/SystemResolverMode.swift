import DNS

/// How the workstation's system resolver is pointed at our DNS server while connected.
public enum SystemResolverMode: String, Equatable, Sendable, CustomStringConvertible {
    /// systemd-resolved is in charge: our server is configured on the TUN device's link with
    /// routing domains (split DNS); /etc/resolv.conf is left alone.
    case resolvedSplitDNS = "systemd-resolved"
    /// /etc/resolv.conf is replaced while connected and restored byte for byte afterwards.
    case resolvConfOverride = "resolv.conf"

    public var description: String { rawValue }

    /// Chooses the mode from what was observed: systemd-resolved counts only when its D-Bus
    /// name has an owner AND the system resolver goes through it, i.e. resolv.conf is a link
    /// to resolved's stub file, or every nameserver it lists is resolved's stub listener
    /// (127.0.0.53, or 127.0.0.54 in proxy mode). A resolved that runs while resolv.conf names
    /// other servers would never see the names we route to it.
    public static func detect(resolvedOwnsBusName: Bool, resolvConfText: String, resolvConfLinkTarget: String?) -> SystemResolverMode {
        guard resolvedOwnsBusName else { return .resolvConfOverride }
        if let target = resolvConfLinkTarget, target.hasSuffix("/systemd/resolve/stub-resolv.conf") || target == "stub-resolv.conf" {
            return .resolvedSplitDNS
        }
        let servers = ResolvConf(parsing: resolvConfText).nameservers
        guard !servers.isEmpty, servers.allSatisfy(stubAddresses.contains) else { return .resolvConfOverride }
        return .resolvedSplitDNS
    }

    /// The addresses of resolved's stub listeners.
    public static let stubAddresses: Set<String> = ["127.0.0.53", "127.0.0.54"]
}
