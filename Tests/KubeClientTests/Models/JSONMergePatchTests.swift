import Foundation
import KubeClient
import Testing

@Suite struct JSONMergePatchTests {
    @Test func applyFollowsRFC7386() {
        let target: JSONValue = ["a": "b", "c": ["d": "e", "f": "g"], "list": [1, 2]]
        let patch: JSONValue = ["a": "z", "c": ["f": nil], "list": [3], "new": ["x": 1]]
        #expect(
            JSONMergePatch.apply(patch, to: target)
                == ["a": "z", "c": ["d": "e"], "list": [3], "new": ["x": 1]])
    }

    @Test func applyReplacesNonObjectsAndDropsNullsInsideNewObjects() {
        #expect(JSONMergePatch.apply(["a": ["b": nil, "c": 1]], to: ["a": "text"]) == ["a": ["c": 1]])
        #expect(JSONMergePatch.apply(["a": 1], to: [1, 2]) == ["a": 1])
        #expect(JSONMergePatch.apply([1, 2], to: ["a": 1]) == [1, 2])
        #expect(JSONMergePatch.apply(nil, to: ["a": 1]) == nil)
        #expect(JSONMergePatch.apply(["gone": nil], to: ["a": 1]) == ["a": 1])
    }

    @Test func diffSendsOnlyWhatChanged() {
        let original: JSONValue = [
            "metadata": ["name": "web", "labels": ["app": "web", "old": "x"], "resourceVersion": "5"],
            "spec": ["replicas": 1, "template": ["spec": ["containers": [["name": "web", "image": "v1"]]]]],
        ]
        var modified = original
        modified["metadata"]?["labels"]?["old"] = nil
        modified["metadata"]?["labels"]?["new"] = "y"
        modified["spec"]?["replicas"] = 3
        #expect(
            JSONMergePatch.diff(from: original, to: modified)
                == ["metadata": ["labels": ["old": nil, "new": "y"]], "spec": ["replicas": 3]])
        #expect(JSONMergePatch.diff(from: original, to: original) == [:])
    }

    @Test func diffOfTypedObjectsLeavesUnmodeledFieldsAlone() throws {
        // The server's Deployment has a field we do not model; our change must not remove it.
        let server = try JSONValue(data: Data(DeploymentTests.sample.utf8))
        var deployment: Deployment = try server.decode()
        let before = deployment
        deployment.spec?.replicas = 5
        deployment.metadata.labels?["telepresence"] = "yes"
        let patch = try JSONMergePatch.diff(from: before, to: deployment)
        #expect(patch == ["metadata": ["labels": ["telepresence": "yes"]], "spec": ["replicas": 5]])
        let result = JSONMergePatch.apply(patch, to: server)
        #expect(result["spec"]?["replicas"] == 5)
        #expect(result["spec"]?["template"]?["metadata"]?["creationTimestamp"] == JSONValue.null)
    }

    @Test func applyOfDiffGivesTheTargetForRandomTrees() {
        var random = RandomJSON(seed: 1)
        for round in 0..<1500 {
            let a = random.chance(90) ? random.object() : random.value()
            var b = random.chance(70) ? random.mutate(a) : random.value()
            b = b.removingNullMembers
            let patch = JSONMergePatch.diff(from: a, to: b)
            let once = JSONMergePatch.apply(patch, to: a)
            // Stop at the first counterexample instead of reporting hundreds.
            guard once == b else {
                Issue.record("round \(round): apply(diff(a, b), a) != b for a=\(a) b=\(b) patch=\(patch)")
                return
            }
            // A merge patch is idempotent.
            guard JSONMergePatch.apply(patch, to: once) == once else {
                Issue.record("round \(round): applying \(patch) twice differs from once")
                return
            }
        }
    }

    @Test func diffOfEqualObjectsIsEmptyForRandomTrees() {
        var random = RandomJSON(seed: 2)
        for _ in 0..<300 {
            let a = random.object()
            #expect(JSONMergePatch.diff(from: a, to: a) == [:])
        }
    }
}
