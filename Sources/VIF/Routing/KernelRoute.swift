#if canImport(Glibc)
import Glibc
#endif
import NetworkAddress

/// One IPv4 route of the kernel's main table, as `/proc/net/route` lists it.
public struct KernelRoute: Hashable, Sendable, CustomStringConvertible {
    public var destination: IPSubnet
    public var gateway: IPv4Address?
    public var device: String
    public var metric: Int

    public init(destination: IPSubnet, gateway: IPv4Address? = nil, device: String, metric: Int = 0) {
        self.destination = destination
        self.gateway = gateway
        self.device = device
        self.metric = metric
    }

    /// As `ip route` prints it, so an error naming it is recognisable.
    public var description: String {
        var text = destination.prefixLength == 0 ? "default" : destination.description
        if let gateway { text += " via \(gateway)" }
        return text + " dev \(device)"
    }

    /// Parses the text of `/proc/net/route`: a header line, then one tab-separated line per
    /// route with addresses as 8 hex digits in network byte order read as a little-endian
    /// number (192.168.0.1 is `0100A8C0`). Routes that are not up, and malformed lines, are
    /// skipped: this is the kernel's own output, and a line we cannot read must not stop a
    /// connect.
    public static func parseProcNetRoute(_ text: String) -> [KernelRoute] {
        var routes: [KernelRoute] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8,
                  let destination = UInt32(fields[1], radix: 16),
                  let gateway = UInt32(fields[2], radix: 16),
                  let flags = UInt32(fields[3], radix: 16),
                  let metric = Int(fields[6]),
                  let mask = UInt32(fields[7], radix: 16),
                  flags & 0x1 != 0  // RTF_UP
            else { continue }
            let hostMask = mask.byteSwapped
            let prefix = hostMask.nonzeroBitCount
            // A mask that is not contiguous ones is not a CIDR route.
            guard hostMask == (prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)) else { continue }
            routes.append(KernelRoute(
                destination: IPSubnet(IPv4Address(destination.byteSwapped), prefixLength: prefix),
                gateway: gateway == 0 ? nil : IPv4Address(gateway.byteSwapped),
                device: String(fields[0]), metric: metric))
        }
        return routes
    }
}

extension KernelRoute {
    /// The main table of this thread's network namespace; empty when it cannot be read (no
    /// /proc), which makes every subnet conflict-free rather than failing a connect.
    public static func current() -> [KernelRoute] {
        // thread-self: /proc/net follows the process's main thread, not a thread that entered
        // another namespace with setns.
        guard let file = fopen("/proc/thread-self/net/route", "r") ?? fopen("/proc/net/route", "r") else { return [] }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return parseProcNetRoute(text)
    }
}
