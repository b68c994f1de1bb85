/// Base64 as Go's `base64.StdEncoding` decodes it (padding required, CR and LF skipped), with its
/// error (`illegal base64 data at input byte 3`): a Secret's `data` values are `[]byte`, so the
/// real server answers a value that is no base64 with exactly this 400.
public enum Base64Syntax {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let decodeMap: [UInt8: UInt8] = {
        var map: [UInt8: UInt8] = [:]
        for (i, c) in alphabet.enumerated() { map[c] = UInt8(i) }
        return map
    }()

    /// The decoded bytes, or the offset Go reports as illegal.
    public static func decode(_ text: String) -> Result<[UInt8], Base64Error> {
        let src = Array(text.utf8)
        var out: [UInt8] = []
        var si = 0
        while true {
            var quantum: [UInt8] = []
            var length = 4
            var j = 0
            while j < 4 {
                if si == src.count {
                    if j == 0 { return .success(out) }
                    // StdEncoding pads: an incomplete quantum is always an error.
                    return .failure(Base64Error(offset: si - j))
                }
                let c = src[si]
                si += 1
                if let value = decodeMap[c] {
                    quantum.append(value)
                    j += 1
                    continue
                }
                if c == 0x0A || c == 0x0D { continue }
                guard c == UInt8(ascii: "=") else { return .failure(Base64Error(offset: si - 1)) }
                switch j {
                case 0, 1: return .failure(Base64Error(offset: si - 1))
                case 2:
                    while si < src.count, src[si] == 0x0A || src[si] == 0x0D { si += 1 }
                    if si == src.count { return .failure(Base64Error(offset: src.count)) }
                    if src[si] != UInt8(ascii: "=") { return .failure(Base64Error(offset: si - 1)) }
                    si += 1
                default: break
                }
                while si < src.count, src[si] == 0x0A || src[si] == 0x0D { si += 1 }
                if si < src.count { return .failure(Base64Error(offset: si)) }
                length = j
                break
            }
            while quantum.count < 4 { quantum.append(0) }
            let value = UInt32(quantum[0]) << 18 | UInt32(quantum[1]) << 12 | UInt32(quantum[2]) << 6 | UInt32(quantum[3])
            let decoded = [UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            out.append(contentsOf: decoded.prefix(length - 1))
            if length < 4 { return .success(out) }
        }
    }

    /// Standard base64 with padding (for `[]byte` given as a JSON array of numbers).
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = bytes[i..<min(i + 3, bytes.count)]
            var value: UInt32 = 0
            for (k, b) in chunk.enumerated() { value |= UInt32(b) << (16 - 8 * UInt32(k)) }
            for k in 0..<4 {
                if k <= chunk.count {
                    out.append(alphabet[Int(value >> (18 - 6 * UInt32(k)) & 0x3F)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

public struct Base64Error: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public var description: String { "illegal base64 data at input byte \(offset)" }
}
