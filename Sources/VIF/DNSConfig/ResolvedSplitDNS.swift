import Foundation

/// Makes a `SplitDNSPlan`'s calls on systemd-resolved over the system bus (with `busctl`), keeps
/// the plan in force so that an update sends only what changed, and reverts the link on `revert()`.
///
/// Calls are not meant to overlap (the actor does not queue across its awaits): the root daemon
/// makes them one at a time (connect, namespace updates, disconnect).
///
/// After a crash nothing needs reverting: the TUN device disappears with the process and resolved
/// drops a link's settings when the link goes (asserted by the tests against a real resolved).
public actor ResolvedSplitDNS {
    /// The bus to talk to; nil is the system bus. Tests point it at a private bus.
    public nonisolated let systemBusAddress: String?
    public nonisolated let timeout: Duration
    public private(set) var current: SplitDNSPlan?

    public init(systemBusAddress: String? = nil, timeout: Duration = .seconds(10)) {
        self.systemBusAddress = systemBusAddress
        self.timeout = timeout
    }

    /// Brings the link to `plan`. A call that fails reverts the link, so a half-configured link
    /// (say, a server without its routing domains) never stays behind.
    public func apply(_ plan: SplitDNSPlan) async throws(ResolvedSplitDNSError) {
        let calls = plan.calls(from: current)
        do {
            for call in calls { try await Self.busctl(call.busctlArguments, systemBusAddress, timeout).check() }
        } catch {
            _ = try? await Self.busctl(plan.revert.busctlArguments, systemBusAddress, timeout).check()
            current = nil
            throw .cannotConfigure(plan.linkIndex, error)
        }
        current = plan
    }

    /// Forgets the link's settings (quit, SIGTERM, disconnect); a no-op when nothing is applied.
    public func revert() async throws(ResolvedSplitDNSError) {
        guard let plan = current else { return }
        current = nil
        do {
            try await Self.busctl(plan.revert.busctlArguments, systemBusAddress, timeout).check()
        } catch {
            throw .cannotRevert(plan.linkIndex, error)
        }
    }

    /// Whether systemd-resolved's name has an owner on the bus. Asks the bus itself
    /// (NameHasOwner), so a resolved that is installed but stopped is not started by the
    /// question (D-Bus activation).
    public static func isRunning(systemBusAddress: String? = nil, timeout: Duration = .seconds(3)) async -> Bool {
        let arguments = ["call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", ResolvedCall.service]
        guard let output = try? await busctl(arguments, systemBusAddress, timeout).run(), output.status == 0 else { return false }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "b true"
    }

    static func busctl(_ arguments: [String], _ systemBusAddress: String?, _ timeout: Duration) -> ExternalCommand {
        ExternalCommand("busctl", arguments, environment: systemBusAddress.map { ["DBUS_SYSTEM_BUS_ADDRESS": $0] } ?? [:], timeout: timeout)
    }
}

extension SystemResolverMode {
    /// Looks at this machine: resolved's bus name, and /etc/resolv.conf (its text, and where it
    /// links to).
    public static func probe(resolvConfPath: String = "/etc/resolv.conf", systemBusAddress: String? = nil) async -> SystemResolverMode {
        let text = (try? String(contentsOfFile: resolvConfPath, encoding: .utf8)) ?? ""
        let target = try? FileManager.default.destinationOfSymbolicLink(atPath: resolvConfPath)
        // Without a stub in resolv.conf the answer is known; skip the bus.
        if detect(resolvedOwnsBusName: true, resolvConfText: text, resolvConfLinkTarget: target) == .resolvConfOverride {
            return .resolvConfOverride
        }
        let owned = await ResolvedSplitDNS.isRunning(systemBusAddress: systemBusAddress)
        return detect(resolvedOwnsBusName: owned, resolvConfText: text, resolvConfLinkTarget: target)
    }
}

public enum ResolvedSplitDNSError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotConfigure(Int32, ExternalCommandError)
    case cannotRevert(Int32, ExternalCommandError)

    public var description: String {
        switch self {
        case .cannotConfigure(let link, let error):
            "systemd-resolved did not take the cluster's DNS settings for link \(link): \(error); check `resolvectl status` and its log (journalctl -u systemd-resolved), or stop systemd-resolved so that telepresence edits /etc/resolv.conf instead"
        case .cannotRevert(let link, let error):
            "systemd-resolved did not drop the cluster's DNS settings for link \(link): \(error); they go when the device does, or run `resolvectl revert <device>`"
        }
    }
}
