import Foundation
import NetworkAddress

/// Subnets on the wire as Telepresence's `IPNet` (address bytes and prefix length), converted
/// here so that both ends read and write them one way and nothing inside handles raw bytes.
extension Telepresence_Manager_IPNet {
    public init(_ subnet: IPSubnet) {
        self.init()
        ip = Data(subnet.address.bytes)
        mask = Int32(subnet.prefixLength)
    }

    /// The subnet, or nil when the bytes are not 4 or 16 or the length does not fit them.
    public var subnet: IPSubnet? {
        guard let address = IPAddress(bytes: ip), (0...address.family.bitWidth).contains(Int(mask)) else { return nil }
        return IPSubnet(address, prefixLength: Int(mask))
    }
}
