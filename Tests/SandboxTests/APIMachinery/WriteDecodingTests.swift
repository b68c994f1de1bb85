import KubeClient
import Testing

@testable import SandboxAPIMachinery

/// What the server answers for a write's object, by where it comes from and by `fieldValidation`.
@Suite struct WriteDecodingTests {
    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"foo":"bar","selector":{"matchLabels":{"app":"web"}}}}
        """#

    func body(_ json: String, _ directive: FieldValidationDirective, kind: String = "Deployment") -> Result<WriteDecoding.Decoded, WriteDecoding.Refusal> {
        WriteDecoding.body(json: Array(json.utf8), kind: kind, version: "v1", directive: directive)
    }

    @Test("an unknown field: dropped under Ignore, a warning under Warn, a 400 under Strict")
    func directives() throws {
        let ignored = try body(Self.deployment, .ignore).get()
        #expect(ignored.warnings.isEmpty && ignored.object["spec"]?["foo"] == nil && ignored.object["spec"]?["replicas"] == 2)
        let warned = try body(Self.deployment, .warn).get()
        #expect(warned.warnings == [#"unknown field "spec.foo""#] && warned.object["spec"]?["foo"] == nil)
        #expect(body(Self.deployment, .strict) == .failure(.badRequest(
            #"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo""#)))
        let twice = #"{"metadata":{"name":"a","name":"b"},"spec":{"x":1}}"#
        #expect(body(twice, .strict, kind: "ConfigMap") == .failure(.badRequest(
            #"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name", unknown field "spec""#)))
    }

    @Test("fieldValidation: absent is Warn; anything but Ignore, Warn and Strict is the options' 422")
    func directiveParsing() {
        #expect(FieldValidationDirective.parse(nil) == .success(.warn))
        #expect(FieldValidationDirective.parse("") == .success(.warn))
        #expect(FieldValidationDirective.parse("Strict") == .success(.strict))
        guard case .failure(let error) = FieldValidationDirective.parse("strict") else {
            Issue.record("a lower-case directive was accepted")
            return
        }
        #expect(error.description == #"fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn""#)
    }

    @Test("a type error is a 400 whatever the directive, in the body's own kind and version")
    func typeErrors() {
        let json = #"{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"two"}}"#
        for directive in FieldValidationDirective.allCases {
            #expect(body(json, directive) == .failure(.badRequest(
                #"Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#)))
        }
    }

    @Test("a body that is no JSON object: the real server's 'unrecognized' message, with the body's start")
    func unrecognized() {
        #expect(body(#"{"metadata":{"name":"a",}}"#, .strict) == .failure(.badRequest(
            #"the object provided is unrecognized (must be of type Deployment): couldn't get version/kind; json parse error: invalid character '}' looking for beginning of object key string ({"metadata":{"name":"a",}})"#)))
        #expect(body(#"{"kind":5,"metadata":{"name":"a-very-long-name-indeed"}}"#, .strict) == .failure(.badRequest(
            #"the object provided is unrecognized (must be of type Deployment): couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .kind of type string ({"kind":5,"metadata":{"name":" ...)"#)))
        #expect(body("", .strict) == .failure(.badRequest(
            "the object provided is unrecognized (must be of type Deployment): couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)")))
    }

    @Test("a JSON or merge patch's result: a 422 on the patch with the patched JSON")
    func jsonPatchResults() throws {
        let patched: JSONValue = ["metadata": ["name": "web"], "spec": ["replicas": "two"]]
        guard case .failure(.invalidPatch(let error)) = WriteDecoding.jsonPatched(patched, kind: "Deployment", directive: .strict, patchErrors: []) else {
            Issue.record("the patched object was accepted")
            return
        }
        #expect(error.field == "patch")
        #expect(error.body == #"Invalid value: "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":\"two\"}}": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#)
        let unknown: JSONValue = ["spec": ["replicas": 1, "foo": 1]]
        let warned = try WriteDecoding.jsonPatched(unknown, kind: "Deployment", directive: .warn, patchErrors: [#"duplicate field "spec""#]).get()
        #expect(warned.warnings == [#"duplicate field "spec""#, #"unknown field "spec.foo""#])
        guard case .failure(.invalidPatch(let strict)) = WriteDecoding.jsonPatched(unknown, kind: "Deployment", directive: .strict, patchErrors: []) else {
            Issue.record("an unknown field passed Strict")
            return
        }
        #expect(strict.detail == #"strict decoding error: unknown field "spec.foo""#)
    }

    @Test("a strategic merge patch's result: the converter's errors and the patch as Go prints it")
    func strategicResults() {
        let patch: JSONValue = ["spec": ["replicas": "two"]]
        let result: JSONValue = ["metadata": ["name": "web"], "spec": ["replicas": "two"]]
        guard case .failure(.invalidPatch(let error)) = WriteDecoding.strategicPatched(result, patch: patch, kind: "Deployment", directive: .strict, patchErrors: []) else {
            Issue.record("the patched object was accepted")
            return
        }
        #expect(error.description == #"patch: Invalid value: "map[spec:map[replicas:two]]": unrecognized type: int32"#)
        let env: JSONValue = ["spec": ["containers": [["name": "c", "env": [["name": true]]]]]]
        #expect(converterError(env, "Pod") == "unrecognized type: string")
        #expect(converterError(["spec": ["containers": [["name": "c", "ports": [["containerPort": 1.5]]]]]], "Pod") == "cannot convert float64 to int32")
        #expect(converterError(["spec": ["containers": ["name": "c"]]], "Pod") == "cannot restore slice from map")
        #expect(converterError(["metadata": ["labels": ["a"]]], "Pod") == "cannot restore map from slice")
        #expect(converterError(["spec": "x"], "Pod") == "cannot restore struct from: string")
        #expect(converterError(["spec": ["containers": [["name": 5]]]], "Pod") == "cannot convert int64 to string")
    }

    func converterError(_ value: JSONValue, _ kind: String) -> String? {
        do {
            _ = try UnstructuredConverter.convert(value, as: kind)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("the converter truncates an int64 into an int32 as Go's reflect does, and sorts unknown fields")
    func converterDetails() throws {
        let result = try UnstructuredConverter.convert(["spec": ["replicas": 3_000_000_000, "zzz": 1, "aaa": 2]], as: "Deployment")
        #expect(result.object["spec"]?["replicas"] == -1_294_967_296)
        #expect(result.strictErrors == [#"unknown field "spec.aaa""#, #"unknown field "spec.zzz""#])
    }

    @Test("a patch document's own duplicates, and a JSON patch's unknown operation fields")
    func patchDocuments() throws {
        let merge = try WriteDecoding.patchDocumentErrors(Array(#"{"spec":{"replicas":1,"replicas":2}}"#.utf8), jsonPatch: false, directive: .warn).get()
        #expect(merge == [#"duplicate field "spec.replicas""#])
        let ops = try WriteDecoding.patchDocumentErrors(Array(#"[{"op":"add","path":"/a","value":1,"valu":2}]"#.utf8), jsonPatch: true, directive: .strict).get()
        #expect(ops == [#"json patch unknown field "[0].valu""#])
        #expect(try WriteDecoding.patchDocumentErrors(Array(#"{"a":1,"a":2}"#.utf8), jsonPatch: false, directive: .ignore).get().isEmpty)
    }

    @Test("an admission webhook's patched object: a 500 on a type error, unknown fields dropped silently")
    func admission() throws {
        let bad: JSONValue = ["spec": ["containers": [["name": "c", "ports": [["containerPort": "eighty"]]]]]]
        #expect(WriteDecoding.admissionPatched(bad, kind: "Pod") == .failure(.internalError(
            "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32")))
        let extra: JSONValue = ["spec": ["containers": [["name": "c", "sidecarMagic": true]]]]
        #expect(try WriteDecoding.admissionPatched(extra, kind: "Pod").get() == ["spec": ["containers": [["name": "c"]]]])
    }
}
