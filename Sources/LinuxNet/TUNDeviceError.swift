/// Why a TUN device could not be made, configured or used.
public enum TUNDeviceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// /dev/net/tun could not be opened.
    case cannotOpenControlDevice(errno: Int32)
    /// The kernel refused to create or attach the interface.
    case cannotCreateInterface(name: String, errno: Int32)
    /// An interface setting (MTU, address, flags, route) was refused.
    case configurationFailed(operation: String, interface: String, errno: Int32)
    /// Reading or writing a packet failed.
    case ioFailed(operation: String, interface: String, errno: Int32)
    /// The name does not fit an interface name (15 bytes).
    case invalidName(String)

    public var description: String {
        switch self {
        case .cannotOpenControlDevice(let e):
            "Cannot open /dev/net/tun (\(errorText(e))); run as root (or with CAP_NET_ADMIN) and load the tun module (modprobe tun)."
        case .cannotCreateInterface(let name, let e):
            "Cannot create the TUN interface \(name) (\(errorText(e))); check that you have CAP_NET_ADMIN and that no other device has that name."
        case .configurationFailed(let op, let name, let e):
            "Cannot \(op) on \(name) (\(errorText(e))); check that the value is valid and the route does not already exist."
        case .ioFailed(let op, let name, let e):
            "The TUN device \(name) failed to \(op) (\(errorText(e))); the device may have been removed: reconnect."
        case .invalidName(let name):
            "The interface name \"\(name)\" is not valid; use at most 15 ASCII letters, digits, '-' or '_'."
        }
    }
}

#if canImport(Glibc)
import Glibc

private func errorText(_ e: Int32) -> String { String(cString: strerror(e)) }
#else
private func errorText(_ e: Int32) -> String { "errno \(e)" }
#endif
