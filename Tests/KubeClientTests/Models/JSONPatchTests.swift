import TestSupport
import Foundation
import KubeClient
import Testing

@Suite struct JSONPatchTests {
    private func apply(_ patch: JSONPatch, to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        try patch.apply(to: document)
    }

    @Test func addSetsMembersInsertsElementsAndAppendsWithDash() throws {
        let document: JSONValue = ["foo": ["bar", "baz"], "obj": ["a": 1]]
        #expect(
            try apply([.add(path: "/obj/b", value: 2)], to: document) == [
                "foo": ["bar", "baz"], "obj": ["a": 1, "b": 2],
            ])
        #expect(try apply([.add(path: "/obj/a", value: 9)], to: document)["obj"] == ["a": 9])
        #expect(try apply([.add(path: "/foo/1", value: "qux")], to: document)["foo"] == ["bar", "qux", "baz"])
        #expect(try apply([.add(path: "/foo/2", value: "end")], to: document)["foo"] == ["bar", "baz", "end"])
        #expect(try apply([.add(path: "/foo/-", value: ["x": 1])], to: document)["foo"] == ["bar", "baz", ["x": 1]])
        #expect(try apply([.add(path: "", value: [1])], to: document) == [1])
        #expect(try apply([.add(path: "/obj/n", value: nil)], to: document)["obj"] == ["a": 1, "n": nil])
    }

    @Test func removeReplaceMoveCopyTest() throws {
        let document: JSONValue = ["a": ["b": 1, "c": [1, 2, 3]], "d": "x"]
        #expect(try apply([.remove(path: "/a/b")], to: document) == ["a": ["c": [1, 2, 3]], "d": "x"])
        #expect(try apply([.remove(path: "/a/c/0")], to: document)["a"]?["c"] == [2, 3])
        #expect(try apply([.replace(path: "/d", value: ["y": true])], to: document)["d"] == ["y": true])
        #expect(try apply([.replace(path: "/a/c/2", value: 30)], to: document)["a"]?["c"] == [1, 2, 30])
        #expect(try apply([.replace(path: "", value: "all")], to: document) == "all")
        #expect(
            try apply([.move(from: "/d", path: "/a/d")], to: document) == ["a": ["b": 1, "c": [1, 2, 3], "d": "x"]])
        #expect(try apply([.move(from: "/a/c/0", path: "/a/c/-")], to: document)["a"]?["c"] == [2, 3, 1])
        #expect(try apply([.move(from: "/a", path: "/a")], to: document) == document)
        #expect(try apply([.copy(from: "/a/c", path: "/e")], to: document)["e"] == [1, 2, 3])
        #expect(try apply([.test(path: "/a/c/1", value: 2), .test(path: "/d", value: "x")], to: document) == document)
    }

    @Test func pointerEscapesSelectKeysWithSlashAndTilde() throws {
        let document: JSONValue = ["a/b": 1, "m~n": 2, "~1": 3, "": 4, "labels": ["app.kubernetes.io/name": "web"]]
        #expect(try apply([.test(path: "/a~1b", value: 1)], to: document) == document)
        #expect(try apply([.test(path: "/m~0n", value: 2)], to: document) == document)
        #expect(try apply([.test(path: "/~01", value: 3)], to: document) == document)
        #expect(try apply([.test(path: "/", value: 4)], to: document) == document)
        let relabeled = try apply([.replace(path: "/labels/app.kubernetes.io~1name", value: "api")], to: document)
        #expect(relabeled["labels"] == ["app.kubernetes.io/name": "api"])
    }

    @Test func failuresNameTheOperationAndThePath() throws {
        let document: JSONValue = ["a": ["b": 1], "list": [1, 2], "s": "text"]
        func failure(_ patch: JSONPatch) -> JSONPatchError? {
            do {
                _ = try patch.apply(to: document)
                return nil
            } catch {
                return error
            }
        }
        #expect(failure([.remove(path: "/missing")])?.reason == .missingPath("/missing"))
        #expect(failure([.replace(path: "/a/x", value: 1)])?.reason == .missingPath("/a/x"))
        #expect(failure([.add(path: "/nope/x", value: 1)])?.reason == .missingPath("/nope/x"))
        #expect(failure([.copy(from: "/nope", path: "/x")])?.reason == .missingPath("/nope"))
        #expect(failure([.move(from: "/nope", path: "/x")])?.reason == .missingPath("/nope"))
        #expect(failure([.test(path: "/nope", value: 1)])?.reason == .missingPath("/nope"))
        #expect(failure([.remove(path: "/list/2")])?.reason == .invalidArrayIndex("/list/2"))
        #expect(failure([.add(path: "/list/3", value: 0)])?.reason == .invalidArrayIndex("/list/3"))
        #expect(failure([.add(path: "/list/01", value: 0)])?.reason == .invalidArrayIndex("/list/01"))
        #expect(failure([.replace(path: "/list/-", value: 0)])?.reason == .invalidArrayIndex("/list/-"))
        #expect(failure([.add(path: "/s/x", value: 0)])?.reason == .notAContainer("/s/x"))
        #expect(failure([.move(from: "/a", path: "/a/b/c")])?.reason == .moveIntoItself(from: "/a", path: "/a/b/c"))
        #expect(failure([.remove(path: "")])?.reason == .cannotRemoveDocument)

        let testFailure = try #require(failure([.add(path: "/x", value: 1), .test(path: "/a/b", value: 2)]))
        #expect(testFailure.operationIndex == 1)
        #expect(testFailure.op == "test")
        #expect(testFailure.reason == .testFailed(path: "/a/b", expected: 2, actual: 1))
        #expect(
            testFailure.description
                == "JSON Patch operation 1 (test) failed because \"/a/b\" is 1, not 2; the object changed meanwhile, so fetch it again and retry."
        )
        let missing = try #require(failure([.remove(path: "/metadata/labels/a~1b")]))
        #expect(missing.description.contains("\"/metadata/labels/a~1b\""))
        #expect(missing.description.contains("operation 0 (remove)"))
    }

    @Test func aFailedPatchChangesNothing() {
        let document: JSONValue = ["a": 1]
        let patch: JSONPatch = [.add(path: "/b", value: 2), .remove(path: "/missing")]
        #expect(throws: JSONPatchError.self) { try patch.apply(to: document) }
        #expect(document == ["a": 1])
    }

    @Test func wireFormRoundTrips() throws {
        let text =
            #"[{"op":"test","path":"/metadata/resourceVersion","value":"42"},{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"traffic-agent"}},{"op":"remove","path":"/metadata/annotations/a~1b"},{"op":"replace","path":"/spec/replicas","value":null},{"from":"/a","op":"move","path":"/b"},{"from":"/c","op":"copy","path":"/d~0e"}]"#
        let patch = try decode(JSONPatch.self, text)
        #expect(patch.operations.count == 6)
        #expect(patch.operations[2] == .remove(path: JSONPointer(tokens: ["metadata", "annotations", "a/b"])))
        #expect(patch.operations[3] == .replace(path: "/spec/replicas", value: nil))
        #expect(try encodeToString(patch) == text)
    }

    @Test func wireFormErrors() {
        #expect(throws: DecodingError.self) { try decode(JSONPatch.self, #"[{"op":"add","path":"/a"}]"#) }
        #expect(throws: DecodingError.self) { try decode(JSONPatch.self, #"[{"op":"merge","path":"/a","value":1}]"#) }
        #expect(throws: DecodingError.self) { try decode(JSONPatch.self, #"[{"op":"move","path":"/a"}]"#) }
        #expect(throws: DecodingError.self) { try decode(JSONPatch.self, #"[{"op":"remove","path":"a"}]"#) }
        #expect(throws: DecodingError.self) { try decode(JSONPatch.self, #"[{"op":"remove","path":"/a~2"}]"#) }
    }

    @Test func diffTouchesOnlyTheChangedContainer() throws {
        // The server's container carries a field we do not model; editing the other container
        // through typed models and a JSON Patch diff must keep it.
        let server: JSONValue = [
            "spec": [
                "containers": [
                    ["name": "web", "image": "web:1", "futureField": "keep"],
                    ["name": "sidecar", "image": "side:1"],
                ]
            ]
        ]
        struct Spec: Codable, Equatable { var containers: [Container] }
        struct Object: Codable, Equatable { var spec: Spec }
        let before: Object = try server.decode()
        var after = before
        after.spec.containers[1].image = "side:2"
        after.spec.containers.append(Container(name: "traffic-agent", image: "agent:1"))
        let patch = try JSONPatch.diff(from: before, to: after)
        #expect(
            patch == [
                .replace(path: "/spec/containers/1/image", value: "side:2"),
                .add(path: "/spec/containers/2", value: ["name": "traffic-agent", "image": "agent:1"]),
            ])
        let result = try patch.apply(to: server)
        #expect(result["spec"]?["containers"]?[0]?["futureField"] == "keep")
        #expect(result["spec"]?["containers"]?[2]?["name"] == "traffic-agent")
    }

    @Test func diffReplacesElementsWhoseNameChanged() {
        let a: JSONValue = ["list": [["name": "a", "x": 1], ["name": "b", "x": 2]]]
        let b: JSONValue = ["list": [["name": "b", "x": 2]]]
        #expect(
            JSONPatch.diff(from: a, to: b) == [
                .replace(path: "/list/0", value: ["name": "b", "x": 2]), .remove(path: "/list/1"),
            ])
    }

    @Test func applyOfDiffGivesTheTargetForRandomTrees() throws {
        var random = RandomJSON(seed: 3)
        for round in 0..<1500 {
            let a = random.value(depth: 4)
            let b = random.chance(70) ? random.mutate(a) : random.value(depth: 4)
            let patch = JSONPatch.diff(from: a, to: b)
            // Stop at the first counterexample instead of reporting hundreds.
            guard try patch.apply(to: a) == b else {
                Issue.record("round \(round): apply(diff(a, b), a) != b for a=\(a) b=\(b) patch=\(patch)")
                return
            }
            let wire = try JSONDecoder().decode(JSONPatch.self, from: JSONEncoder().encode(patch))
            guard wire == patch, JSONPatch.diff(from: a, to: a).operations.isEmpty else {
                Issue.record("round \(round): \(patch) does not survive the wire, or diff(a, a) is not empty")
                return
            }
        }
    }

    @Test func removeThenAddRestoresTheDocumentForRandomTrees() throws {
        var random = RandomJSON(seed: 4)
        var checked = 0
        for _ in 0..<800 {
            let document = random.object(depth: 4)
            let paths = allPointers(in: document).filter { !$0.tokens.isEmpty }
            guard !paths.isEmpty else { continue }
            let path = paths[random.int(0...paths.count - 1)]
            let value = try #require(path.value(in: document))
            let patch: JSONPatch = [
                .test(path: path, value: value), .remove(path: path), .add(path: path, value: value),
            ]
            #expect(try patch.apply(to: document) == document, "path \(path)")
            let copied = try JSONPatch([.copy(from: path, path: "/copy")]).apply(to: document)
            #expect(copied["copy"] == value)
            checked += 1
        }
        #expect(checked > 500)
    }

    private func allPointers(in value: JSONValue, at path: JSONPointer = .root) -> [JSONPointer] {
        var result = [path]
        switch value {
        case .object(let fields):
            for (key, child) in fields { result += allPointers(in: child, at: path.appending(key)) }
        case .array(let items):
            for (index, child) in items.enumerated() { result += allPointers(in: child, at: path.appending(index)) }
        default:
            break
        }
        return result
    }
}

@Suite struct JSONPointerTests {
    /// Through a variable: `JSONPointer("literal")` would be the non-throwing literal form.
    private func parse(_ text: String) throws -> JSONPointer { try JSONPointer(text) }

    @Test func parsesAndPrintsEscapes() throws {
        #expect(try parse("").tokens == [])
        #expect(try parse("/").tokens == [""])
        #expect(try parse("/a~1b/m~0n/~01").tokens == ["a/b", "m~n", "~1"])
        #expect(JSONPointer(tokens: ["a/b", "m~n", "~1"]).description == "/a~1b/m~0n/~01")
        #expect(JSONPointer(tokens: ["a", ""]).description == "/a/")
    }

    @Test(arguments: ["a", "a/b", "/a~", "/a~2", "#/a"])
    func rejectsInvalidText(_ text: String) throws {
        let error = try #require(throws: JSONPointerError.self) { try JSONPointer(text) }
        #expect(error.description.contains("~0"))
    }

    @Test func randomTokensRoundTrip() throws {
        var random = SeededGenerator(seed: 5)
        let alphabet: [Character] = ["a", "~", "/", "0", "1", "-", "é"]
        for _ in 0..<500 {
            let tokens = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                String((0..<Int.random(in: 0...4, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            }
            let pointer = JSONPointer(tokens: tokens)
            #expect(try JSONPointer(pointer.description) == pointer, "\(tokens)")
        }
    }

    @Test func resolvesValues() {
        let document: JSONValue = ["a": [["b": 1]], "01": "x"]
        #expect(JSONPointer("/a/0/b").value(in: document) == 1)
        #expect(JSONPointer("/01").value(in: document) == "x")
        #expect(JSONPointer("/a/00/b").value(in: document) == nil)
        #expect(JSONPointer("/a/-").value(in: document) == nil)
        #expect(JSONPointer("").value(in: document) == document)
    }
}
