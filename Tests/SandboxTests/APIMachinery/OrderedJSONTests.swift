import KubeClient
import Testing

@testable import SandboxAPIMachinery

/// The JSON parser keeps what the real server's decoder sees and words its errors as Go does.
@Suite struct OrderedJSONTests {
    func parse(_ text: String) throws(JSONSyntaxError) -> OrderedJSON { try OrderedJSON.parse(Array(text.utf8)) }

    func syntaxError(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("members keep their order and their duplicates; numbers keep their text")
    func keepsTheDocument() throws {
        let document = try parse(#" {"b": 1.50, "a": [true, null, "x\u00e9\n"], "b": -0} "#)
        #expect(document == .object([
            .init(key: "b", value: .number("1.50")),
            .init(key: "a", value: .array([.bool(true), .null, .string("xé\n")])),
            .init(key: "b", value: .number("-0")),
        ]))
        #expect(document.jsonValue == ["a": [true, nil, "xé\n"], "b": 0])
    }

    @Test("surrogate pairs join; a lone surrogate becomes U+FFFD, as in Go")
    func surrogates() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""\ud83d""#) == .string("\u{FFFD}"))
    }

    @Test("syntax errors read like Go's encoding/json")
    func goMessages() {
        #expect(syntaxError("") == "unexpected end of JSON input")
        #expect(syntaxError(#"{"a":1"#) == "unexpected end of JSON input")
        #expect(syntaxError("x") == "invalid character 'x' looking for beginning of value")
        #expect(syntaxError(#"{"a" 1}"#) == "invalid character '1' after object key")
        #expect(syntaxError(#"{"a":1 "b":2}"#) == "invalid character '\"' after object key:value pair")
        #expect(syntaxError(#"{"a":1,}"#) == "invalid character '}' looking for beginning of object key string")
        #expect(syntaxError("[1 2]") == "invalid character '2' after array element")
        #expect(syntaxError("tru ") == "invalid character ' ' in literal true (expecting 'e')")
        #expect(syntaxError("01") == "invalid character '1' after top-level value")
        #expect(syntaxError("-x") == "invalid character 'x' in numeric literal")
        #expect(syntaxError("1.x") == "invalid character 'x' after decimal point in numeric literal")
        #expect(syntaxError("1ex") == "invalid character 'x' in exponent of numeric literal")
        #expect(syntaxError("\"a\u{01}\"") == "invalid character '\\x01' in string literal")
        #expect(syntaxError(#""\q""#) == "invalid character 'q' in string escape code")
        #expect(syntaxError("{} {}") == "invalid character '{' after top-level value")
    }

    @Test("deep nesting is refused, not a stack overflow")
    func deepNesting() {
        let deep = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        #expect(syntaxError(deep) == "exceeded max depth")
    }
}
