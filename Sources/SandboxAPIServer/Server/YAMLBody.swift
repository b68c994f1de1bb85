import Foundation
import KubeClient
import Yams

/// Server-side apply sends `application/apply-patch+yaml`; kubectl sends JSON (valid YAML),
/// other clients real YAML. Both become a JSON tree.
enum YAMLBody {
    static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            first == UInt8(ascii: "{")
        {
            return try JSONBytes.decode(bytes)
        }
        guard let text = String(bytes: bytes, encoding: .utf8), let node = try Yams.load(yaml: text) else {
            return .null
        }
        return convert(node)
    }

    static func convert(_ any: Any) -> JSONValue {
        switch any {
        case let v as Bool: return .bool(v)
        case let v as Int: return .number(Double(v))
        case let v as Double: return .number(v)
        case let v as String: return .string(v)
        case let v as [Any]: return .array(v.map(convert))
        case let v as [String: Any]: return .object(v.mapValues(convert))
        case let v as [AnyHashable: Any]:
            var out: [String: JSONValue] = [:]
            for (k, value) in v { out["\(k)"] = convert(value) }
            return .object(out)
        default: return .null
        }
    }
}
