import Foundation
import KubeClient
import Testing

@Suite struct KubeListTests {
    @Test func decodesAListWhoseItemsLackKindAndAPIVersion() throws {
        let json = #"""
            {"apiVersion":"v1","kind":"ConfigMapList",
             "metadata":{"continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ","remainingItemCount":7,"resourceVersion":"48300"},
             "items":[{"metadata":{"name":"a","namespace":"default"},"data":{"k":"v"}},
                      {"metadata":{"name":"b","namespace":"default"}}]}
            """#
        let result = try roundTrip(KubeList<ConfigMap>.self, json)
        let list = result.value
        #expect(list.kind == "ConfigMapList")
        #expect(list.metadata.resourceVersion == "48300")
        #expect(list.metadata.continue == "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ")
        #expect(list.metadata.remainingItemCount == 7)
        #expect(list.items.map(\.metadata.name) == ["a", "b"])
        #expect(list.items.first?.kind == nil)
        #expect(result.differences == [])
    }

    @Test func nullOrMissingItemsDecodeAsEmpty() throws {
        #expect(try decode(KubeList<Pod>.self, #"{"kind":"PodList","metadata":{},"items":null}"#).items == [])
        #expect(try decode(KubeList<Pod>.self, #"{}"#).items == [])
    }

    @Test func anEmptyListEncodesLikeTheServer() throws {
        let list = KubeList<Deployment>(metadata: ListMeta(resourceVersion: "1"))
        #expect(
            try encodeToString(list)
                == #"{"apiVersion":"apps/v1","items":[],"kind":"DeploymentList","metadata":{"resourceVersion":"1"}}"#)
    }
}

@Suite struct UnknownFieldsTests {
    @Test func fieldsFromNewerServersAreIgnoredAtEveryLevel() throws {
        let json = #"""
            {"apiVersion":"v1","kind":"Service","futureTopLevel":{"x":[1,2]},
             "metadata":{"name":"web","futureMeta":true},
             "spec":{"ports":[{"port":80,"futurePortField":"y"}],"futureSpec":null},
             "status":{"futureStatus":{}}}
            """#
        let result = try roundTrip(Service.self, json)
        #expect(result.value.spec?.ports?.first?.port == 80)
        #expect(
            result.differences == [
                "-/futureTopLevel", "-/metadata/futureMeta", "-/spec/futureSpec", "-/spec/ports/0/futurePortField",
                "-/status/futureStatus",
            ])
    }
}

@Suite struct LabelSelectorTests {
    @Test func matchLabelsAndExpressionsMustAllHold() {
        let selector = LabelSelector(
            matchLabels: ["app": "web"],
            matchExpressions: [
                LabelSelectorRequirement(key: "tier", operator: "In", values: ["frontend", "edge"]),
                LabelSelectorRequirement(key: "canary", operator: "DoesNotExist"),
                LabelSelectorRequirement(key: "env", operator: "NotIn", values: ["prod"]),
                LabelSelectorRequirement(key: "team", operator: "Exists"),
            ])
        #expect(selector.matches(["app": "web", "tier": "edge", "team": "a"]))
        #expect(selector.matches(["app": "web", "tier": "edge", "team": "a", "env": "dev"]))
        #expect(!selector.matches(["app": "api", "tier": "edge", "team": "a"]))
        #expect(!selector.matches(["app": "web", "tier": "backend", "team": "a"]))
        #expect(!selector.matches(["app": "web", "tier": "edge", "team": "a", "canary": "1"]))
        #expect(!selector.matches(["app": "web", "tier": "edge", "team": "a", "env": "prod"]))
        #expect(!selector.matches(["app": "web", "tier": "edge"]))
    }

    @Test func anEmptySelectorMatchesEverythingAndAnUnknownOperatorNothing() {
        #expect(LabelSelector().matches([:]))
        #expect(
            !LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "a", operator: "Gt")]).matches(["a": "1"]))
    }
}
