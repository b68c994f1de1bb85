import NetworkAddress

/// Finds the cluster's service (clusterIP) range the way Telepresence does: the API server has
/// no endpoint that tells it, but it names the range when it refuses a Service whose clusterIP
/// lies outside it ("... The range of valid IPs is 10.96.0.0/12"). The probe creates such a
/// Service with `dryRun=All`, so nothing is ever stored.
public enum ServiceSubnetProbe {
    /// A clusterIP that no cluster's service range holds (TEST-NET-1, RFC 5737).
    public static let outOfRangeIP = "192.0.2.255"

    /// The subnet named in the API's answer to the out-of-range clusterIP, or nil.
    public static func subnet(fromErrorMessage message: String) -> IPSubnet? {
        let marker = "The range of valid IPs is "
        guard let range = message.range(of: marker) else { return nil }
        // The text after the marker may list a second family ("10.96.0.0/12,fd00::/108") and end
        // with quotes or punctuation from the surrounding Status message.
        let tail = message[range.upperBound...]
        let token = tail.prefix { !$0.isWhitespace && $0 != "\"" && $0 != "'" && $0 != "," && $0 != ";" }
        var text = String(token)
        while let last = text.last, last == "." || last == ")" || last == "]" { text.removeLast() }
        return IPSubnet(text)
    }
}
