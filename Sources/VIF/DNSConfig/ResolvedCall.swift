/// One method call on systemd-resolved's D-Bus manager object (org.freedesktop.resolve1(5)),
/// written as `busctl call` takes it: the member, its D-Bus signature and the arguments as
/// busctl's text (arrays are preceded by their element count, byte arrays by their length).
///
/// Why busctl and not resolvectl: busctl is in the `systemd` package that every machine running
/// resolved has (resolvectl is a separate package on Debian), the calls are the documented,
/// stable D-Bus API one setting at a time, and they take the link's index, so nothing depends on
/// resolvectl's output or option spelling across versions.
public struct ResolvedCall: Equatable, Sendable, CustomStringConvertible {
    public static let service = "org.freedesktop.resolve1"
    public static let objectPath = "/org/freedesktop/resolve1"
    public static let interface = "org.freedesktop.resolve1.Manager"

    public var member: String
    public var signature: String
    public var arguments: [String]

    public init(member: String, signature: String, arguments: [String]) {
        self.member = member
        self.signature = signature
        self.arguments = arguments
    }

    /// The arguments of `busctl` that make this call.
    public var busctlArguments: [String] {
        ["call", Self.service, Self.objectPath, Self.interface, member, signature] + arguments
    }

    public var description: String { "\(member) \(signature) \(arguments.joined(separator: " "))" }

    /// SetLinkDNS(ifindex, [(family, address bytes)]): the link's DNS servers.
    public static func setLinkDNS(_ linkIndex: Int32, servers: [[UInt8]]) -> ResolvedCall {
        var arguments = ["\(linkIndex)", "\(servers.count)"]
        for address in servers {
            let family = address.count == 16 ? 10 /* AF_INET6 */ : 2 /* AF_INET */
            arguments += ["\(family)", "\(address.count)"] + address.map { "\($0)" }
        }
        return ResolvedCall(member: "SetLinkDNS", signature: "ia(iay)", arguments: arguments)
    }

    /// SetLinkDomains(ifindex, [(domain, routing only)]): search domains (false) and routing
    /// domains (true, shown by resolvectl as `~domain`).
    public static func setLinkDomains(_ linkIndex: Int32, _ domains: [(name: String, routingOnly: Bool)]) -> ResolvedCall {
        var arguments = ["\(linkIndex)", "\(domains.count)"]
        for domain in domains { arguments += [domain.name, domain.routingOnly ? "true" : "false"] }
        return ResolvedCall(member: "SetLinkDomains", signature: "ia(sb)", arguments: arguments)
    }

    /// SetLinkDefaultRoute(ifindex, bool): whether names that no link's domain matches may go
    /// to this link's servers.
    public static func setLinkDefaultRoute(_ linkIndex: Int32, _ enabled: Bool) -> ResolvedCall {
        ResolvedCall(member: "SetLinkDefaultRoute", signature: "ib", arguments: ["\(linkIndex)", enabled ? "true" : "false"])
    }

    /// SetLinkLLMNR / SetLinkMulticastDNS / SetLinkDNSSEC(ifindex, mode string).
    public static func setLinkMode(_ member: String, _ linkIndex: Int32, _ mode: String) -> ResolvedCall {
        ResolvedCall(member: member, signature: "is", arguments: ["\(linkIndex)", mode])
    }

    /// RevertLink(ifindex): forget everything set on the link.
    public static func revertLink(_ linkIndex: Int32) -> ResolvedCall {
        ResolvedCall(member: "RevertLink", signature: "i", arguments: ["\(linkIndex)"])
    }
}
