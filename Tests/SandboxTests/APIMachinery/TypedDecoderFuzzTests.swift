import KubeClient
import Testing
import TestSupport

@testable import SandboxAPIMachinery

/// Request bodies are network input: random documents shaped like the served kinds (and random
/// bytes) never crash the decoder, always end as an object or a typed refusal, and what is
/// accepted is stable (decoding it again changes nothing and finds nothing unknown).
@Suite("API machinery: typed decoding of random bodies (property and fuzz tests)")
struct TypedDecoderFuzzTests {
    static let kinds = ["Pod", "Deployment", "Service", "ConfigMap", "Secret", "StatefulSet", "RoleBinding", "MutatingWebhookConfiguration", "Scale"]

    /// A random value for `field`: mostly of the right type, sometimes of another, sometimes with
    /// unknown members.
    struct Generator {
        var random: SeededGenerator
        let schema = TypeSchema.kubernetes

        mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

        mutating func anyScalar() -> JSONValue {
            switch Int.random(in: 0..<7, using: &random) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &random))
            case 2: return .number(Double(Int.random(in: -5...70000, using: &random)))
            case 3: return .number(Double.random(in: -1e12...1e12, using: &random))
            case 4: return .string(["", "x", "web", "80", "1Gi", "500m", "2024-05-01T12:34:56Z", "aGk=", "TCP", "not base64!"].randomElement(using: &random)!)
            case 5: return .array([])
            default: return .object([:])
            }
        }

        mutating func value(_ type: TypeSchema.ValueType, depth: Int) -> JSONValue {
            if chance(8) || depth > 6 { return anyScalar() }
            switch type {
            case .string: return .string(["web", "TCP", "", "a-b", "Always"].randomElement(using: &random)!)
            case .bool: return .bool(Bool.random(using: &random))
            case .int32, .int64, .float64: return .number(Double(Int.random(in: -2...70000, using: &random)))
            case .bytes: return .string(["aGVsbG8=", "", "abc"].randomElement(using: &random)!)
            case .time, .microTime: return .string(["2024-05-01T12:34:56Z", "2024-13-01T00:00:00Z", "soon"].randomElement(using: &random)!)
            case .duration: return .string("1s")
            case .intOrString: return chance(50) ? .number(Double(Int.random(in: 0...70000, using: &random))) : .string("http")
            case .quantity: return .string(["1", "500m", "1Gi", "lots", "1e3", "-2"].randomElement(using: &random)!)
            case .raw: return ["f:metadata": [:]]
            case .map(let inner):
                var fields: [String: JSONValue] = [:]
                for i in 0..<Int.random(in: 0...3, using: &random) { fields["k\(i)"] = value(inner, depth: depth + 1) }
                return .object(fields)
            case .message(let name):
                return message(name, depth: depth + 1)
            }
        }

        mutating func message(_ name: String, depth: Int) -> JSONValue {
            guard let message = schema.message(name) else { return [:] }
            var fields: [String: JSONValue] = [:]
            let keys = Array(message.keys.values)
            for _ in 0..<Int.random(in: 0...min(6, keys.count), using: &random) {
                let key = keys.randomElement(using: &random)!
                let field = key.field
                if field.repeated && !chance(10) {
                    fields[field.name] = .array((0..<Int.random(in: 0...2, using: &random)).map { _ in value(field.type, depth: depth) })
                } else {
                    fields[field.name] = value(field.type, depth: depth)
                }
            }
            if chance(10) { fields["unknownField\(Int.random(in: 0...9, using: &random))"] = anyScalar() }
            return .object(fields)
        }
    }

    @Test("random documents of every served kind: an object or a Go error, never a crash; accepted output is stable")
    func randomDocuments() throws {
        var generator = Generator(random: SeededGenerator(seed: 0x5EED_7A9E))
        var accepted = 0, refused = 0
        for i in 0..<3000 {
            let kind = Self.kinds[i % Self.kinds.count]
            let document = generator.message(kind, depth: 0)
            do {
                let result = try TypedDecoder.decode(document, as: kind)
                accepted += 1
                let again = try TypedDecoder.decode(result.object, as: kind)
                #expect(again.object == result.object, "decoding \(kind) twice changed it: \(document)")
                #expect(again.strictErrors.isEmpty, "the decoded \(kind) still has unknown fields: \(again.strictErrors)")
            } catch {
                refused += 1
                let known = ["json: cannot unmarshal ", "quantities must match", "unable to parse quantity", "parsing time ", "illegal base64 data"]
                #expect(known.contains { error.message.hasPrefix($0) }, "unexpected refusal: \(error.message)")
            }
            // The strategic-merge path's converter takes the same input.
            do { _ = try UnstructuredConverter.convert(document, as: kind) } catch { #expect(!error.message.isEmpty) }
        }
        // Both outcomes must have been exercised for the property to mean anything.
        #expect(accepted > 300 && refused > 300, "accepted \(accepted), refused \(refused)")
    }

    @Test("random bytes and mangled manifests: a decoded object or a 400, never a crash")
    func randomBytes() {
        var random = SeededGenerator(seed: 0xFEED_BEEF)
        let manifest = Array(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
             "spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}],"env":[{"name":"A","value":"\u00e9"}]}]}}}}
            """#.utf8)
        let alphabet = Array(#"{}[]",:0123456789.-+eEtrufalsn\ x"#.utf8)
        for round in 0..<3000 {
            var bytes = manifest
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                }
            }
            if round % 10 == 0 { bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } }
            for directive in FieldValidationDirective.allCases {
                switch WriteDecoding.body(json: bytes, kind: "Deployment", version: "v1", directive: directive) {
                case .success(let decoded): #expect(decoded.object.objectValue != nil)
                case .failure(.badRequest(let message)): #expect(!message.isEmpty)
                case .failure(let other): Issue.record("a body was refused with \(other)")
                }
            }
        }
    }
}
