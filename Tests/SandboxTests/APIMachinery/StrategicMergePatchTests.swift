import Foundation
import KubeClient
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite struct StrategicMergePatchTests {
    private func json(_ text: String) throws -> JSONValue {
        try JSONValue(data: Data(text.utf8))
    }

    private func patch(_ patch: String, _ original: JSONValue, kind: String) throws -> JSONValue {
        try StrategicMergePatch.apply(json(patch), to: original, kind: kind)
    }

    /// The Deployment as the server stores it after the first `kubectl apply` (csa-deploy-33.log).
    private func liveDeployment() throws -> JSONValue {
        try json(#"""
        {"apiVersion":"apps/v1","kind":"Deployment",
         "metadata":{"name":"web","namespace":"default","uid":"u1","generation":1,"resourceVersion":"10",
           "annotations":{"deployment.kubernetes.io/revision":"1"}},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
           "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
           "template":{"metadata":{"labels":{"app":"web"}},
             "spec":{"containers":[{"image":"nginx:1.25","name":"c","imagePullPolicy":"IfNotPresent",
               "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
               "restartPolicy":"Always","dnsPolicy":"ClusterFirst"}}},
         "status":{"replicas":2}}
        """#)
    }

    // MARK: Bodies kubectl apply sends (kubectl-requests/csa-deploy-33.log, csa-deploy-rm-33.log)

    @Test func kubectlApplyChangingAndAddingFields() throws {
        let body = #"""
        {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"image\":\"nginx:1.26\",\"name\":\"c\",\"ports\":[{\"containerPort\":8080,\"name\":\"http\"}]}]}}}}\n"}},"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx:1.26","name":"c","ports":[{"containerPort":8080,"name":"http"}]}]}}}}
        """#
        let result = try patch(body, liveDeployment(), kind: "Deployment")
        #expect(result["spec"]?["replicas"] == 3)
        let container = try #require(result["spec"]?["template"]?["spec"]?["containers"]?[0])
        #expect(result["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.count == 1)
        #expect(container["image"] == "nginx:1.26")
        #expect(container["env"] == [["name": "A", "value": "1"]])
        #expect(container["ports"] == [["containerPort": 8080, "name": "http"]])
        // Defaults the server added survive the merge.
        #expect(container["imagePullPolicy"] == "IfNotPresent")
        #expect(container["terminationMessagePath"] == "/dev/termination-log")
        #expect(result["metadata"]?["annotations"]?["deployment.kubernetes.io/revision"] == "1")
        #expect(result["metadata"]?["annotations"]?["kubectl.kubernetes.io/last-applied-configuration"]?.stringValue?.hasSuffix("}\n") == true)
        #expect(result["spec"]?["strategy"]?["type"] == "RollingUpdate")
        #expect(result["status"]?["replicas"] == 2)
        // No directive reaches the stored object.
        #expect(result["spec"]?["template"]?["spec"]?["$setElementOrder/containers"] == nil)
    }

    @Test func kubectlApplyRemovingFieldsWithNull() throws {
        let first = try patch(
            #"{"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx:1.26","name":"c","ports":[{"containerPort":8080,"name":"http"}]}]}}}}"#,
            liveDeployment(), kind: "Deployment")
        let body = #"""
        {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"}},"spec":{"replicas":2,"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"env":null,"image":"nginx:1.25","name":"c","ports":null}]}}}}
        """#
        let result = try patch(body, first, kind: "Deployment")
        let container = try #require(result["spec"]?["template"]?["spec"]?["containers"]?[0])
        #expect(result["spec"]?["replicas"] == 2)
        #expect(container["image"] == "nginx:1.25")
        #expect(container["env"] == nil)
        #expect(container["ports"] == nil)
        #expect(container["name"] == "c")
        #expect(container["imagePullPolicy"] == "IfNotPresent")
    }

    @Test func kubectlApplyConfigMapUpdate() throws {
        let live: JSONValue = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "cfg", "namespace": "default", "annotations": ["kubectl.kubernetes.io/last-applied-configuration": "old\n"]],
            "data": ["a": "1", "b": "keep"],
        ]
        let body = #"""
        {"data":{"a":"2"},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"a\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"cfg\",\"namespace\":\"default\"}}\n"}}}
        """#
        let result = try patch(body, live, kind: "ConfigMap")
        #expect(result["data"] == ["a": "2", "b": "keep"])
        #expect(result["metadata"]?["name"] == "cfg")
        #expect(result["metadata"]?["annotations"]?["kubectl.kubernetes.io/last-applied-configuration"]?.stringValue?.contains(#""a\":\"2\""#) == false)
        #expect(result["metadata"]?["annotations"]?["kubectl.kubernetes.io/last-applied-configuration"]?.stringValue?.contains(#""a":"2""#) == true)
    }

    @Test func rolloutRestartAddsTheTemplateAnnotation() throws {
        let result = try patch(
            #"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-28T11:57:29Z"}}}}}"#,
            liveDeployment(), kind: "Deployment")
        #expect(result["spec"]?["template"]?["metadata"] == [
            "labels": ["app": "web"], "annotations": ["kubectl.kubernetes.io/restartedAt": "2026-11-28T11:57:29Z"],
        ])
    }

    // MARK: Maps

    @Test func mapsMergeAndNullDeletes() throws {
        let original: JSONValue = ["metadata": ["name": "x", "labels": ["a": "1", "b": "2"]], "data": ["k": "v"]]
        let result = try patch(#"{"metadata":{"labels":{"a":null,"c":"3"}},"data":null,"extra":{"x":null,"y":1}}"#, original, kind: "ConfigMap")
        #expect(result == ["metadata": ["name": "x", "labels": ["b": "2", "c": "3"]], "extra": ["y": 1]])
    }

    @Test func patchReplaceAndDeleteInAMap() throws {
        let original: JSONValue = ["spec": ["selector": ["app": "web", "tier": "fe"], "type": "ClusterIP"]]
        let replaced = try patch(#"{"spec":{"selector":{"$patch":"replace","app":"api"}}}"#, original, kind: "Service")
        #expect(replaced["spec"]?["selector"] == ["app": "api"])
        let deleted = try patch(#"{"spec":{"selector":{"$patch":"delete"}}}"#, original, kind: "Service")
        #expect(deleted["spec"]?["selector"] == [:])
        #expect(deleted["spec"]?["type"] == "ClusterIP")
    }

    @Test func retainKeysClearsTheOtherMembersOfAUnion() throws {
        // What kubectl apply sends when the strategy changes to Recreate.
        let result = try patch(
            #"{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}}"#,
            liveDeployment(), kind: "Deployment")
        #expect(result["spec"]?["strategy"] == ["type": "Recreate"])

        let volumes: JSONValue = ["spec": ["volumes": [["name": "v", "emptyDir": [:]]]]]
        let swapped = try patch(
            #"{"spec":{"volumes":[{"$retainKeys":["configMap","name"],"configMap":{"name":"cfg"},"name":"v"}]}}"#,
            volumes, kind: "Pod")
        #expect(swapped["spec"]?["volumes"] == [["name": "v", "configMap": ["name": "cfg"]]])
    }

    // MARK: Lists merged by key

    /// The example of the Kubernetes docs ("Update API Objects in Place Using kubectl patch"):
    /// the added container comes first.
    @Test func anAddedContainerGoesFirstLikeInTheDocs() throws {
        let deployment: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "patch-demo-ctr", "image": "nginx"]]]]]]
        let result = try patch(
            #"{"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr-2","image":"redis"}]}}}}"#,
            deployment, kind: "Deployment")
        #expect(result["spec"]?["template"]?["spec"]?["containers"] == [
            ["name": "patch-demo-ctr-2", "image": "redis"], ["name": "patch-demo-ctr", "image": "nginx"],
        ])
    }

    @Test func containersMergeByName() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a", "image": "a:1"], ["name": "b", "image": "b:1"]]]]
        let result = try patch(#"{"spec":{"containers":[{"name":"b","image":"b:2"},{"name":"c","image":"c:1"}]}}"#, pod, kind: "Pod")
        #expect(result["spec"]?["containers"] == [
            ["name": "a", "image": "a:1"], ["name": "b", "image": "b:2"], ["name": "c", "image": "c:1"],
        ])
    }

    @Test func itemsThePatchNamesFollowThePatchOrder() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a"], ["name": "b"], ["name": "c"]]]]
        let result = try patch(#"{"spec":{"containers":[{"name":"c","v":1},{"name":"a","v":2}]}}"#, pod, kind: "Pod")
        #expect(result["spec"]?["containers"] == [["name": "b"], ["name": "c", "v": 1], ["name": "a", "v": 2]])

        let namespace: JSONValue = ["metadata": ["finalizers": ["a", "b"]]]
        let finalizers = try patch(#"{"metadata":{"finalizers":["c","a"]}}"#, namespace, kind: "Namespace")
        #expect(finalizers["metadata"]?["finalizers"] == ["c", "a", "b"])
    }

    @Test func patchDeleteRemovesAListElement() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a"], ["name": "b"]]]]
        let result = try patch(
            #"{"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"$patch":"delete","name":"b"}]}}"#,
            pod, kind: "Pod")
        #expect(result["spec"]?["containers"] == [["name": "a"]])
    }

    @Test func patchReplaceReplacesAMergedList() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a", "image": "x"], ["name": "b"]]]]
        let result = try patch(#"{"spec":{"containers":[{"$patch":"replace"},{"name":"z","image":"z"}]}}"#, pod, kind: "Pod")
        #expect(result["spec"]?["containers"] == [["name": "z", "image": "z"]])
    }

    @Test func nestedListsUseTheirOwnKeys() throws {
        let deployment: JSONValue = [
            "spec": ["template": ["spec": ["containers": [[
                "name": "c",
                "ports": [["containerPort": 80, "name": "http"], ["containerPort": 443, "name": "https"]],
                "env": [["name": "A", "value": "1"], ["name": "B", "value": "2"]],
                "volumeMounts": [["mountPath": "/data", "name": "d"]],
                "args": ["--one", "--two"],
            ]]]]],
        ]
        let result = try patch(#"""
            {"spec":{"template":{"spec":{"containers":[{"name":"c",
              "ports":[{"containerPort":443,"name":"tls"},{"containerPort":8080}],
              "env":[{"name":"B","value":"3"}],
              "volumeMounts":[{"mountPath":"/data","readOnly":true}],
              "args":["--three"]}]}}}}
            """#, deployment, kind: "Deployment")
        let container = try #require(result["spec"]?["template"]?["spec"]?["containers"]?[0])
        #expect(container["ports"] == [["containerPort": 80, "name": "http"], ["containerPort": 443, "name": "tls"], ["containerPort": 8080]])
        #expect(container["env"] == [["name": "A", "value": "1"], ["name": "B", "value": "3"]])
        #expect(container["volumeMounts"] == [["mountPath": "/data", "name": "d", "readOnly": true]])
        // args has no merge strategy: replaced.
        #expect(container["args"] == ["--three"])
    }

    @Test func servicePortsMergeByPortAndTolerationsAreReplaced() throws {
        let service: JSONValue = ["spec": ["ports": [["port": 80, "targetPort": 8080], ["port": 443]]]]
        let merged = try patch(#"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#, service, kind: "Service")
        #expect(merged["spec"]?["ports"] == [["port": 80, "targetPort": 9090], ["port": 443]])

        let pod: JSONValue = ["spec": ["tolerations": [["key": "a", "operator": "Exists"]]]]
        let replaced = try patch(#"{"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}}"#, pod, kind: "Pod")
        #expect(replaced["spec"]?["tolerations"] == [["key": "b", "operator": "Exists"]])
    }

    @Test func ownerReferencesMergeByUIDAndConditionsByType() throws {
        let pod: JSONValue = [
            "metadata": ["ownerReferences": [["uid": "1", "name": "rs"]]],
            "status": ["conditions": [["type": "Ready", "status": "False"], ["type": "PodScheduled", "status": "True"]]],
        ]
        let result = try patch(#"""
            {"metadata":{"ownerReferences":[{"uid":"2","name":"other"}]},
             "status":{"conditions":[{"type":"Ready","status":"True"}]}}
            """#, pod, kind: "Pod")
        // As in Go, a new item the live list cannot place goes before the server-only items.
        #expect(result["metadata"]?["ownerReferences"] == [["uid": "2", "name": "other"], ["uid": "1", "name": "rs"]])
        #expect(result["status"]?["conditions"] == [["type": "Ready", "status": "True"], ["type": "PodScheduled", "status": "True"]])
    }

    @Test func unknownKindsReplaceListsButKeepMetadataRules() throws {
        let object: JSONValue = ["metadata": ["finalizers": ["a"]], "spec": ["containers": [["name": "a"]]]]
        let result = try patch(#"{"metadata":{"finalizers":["b"]},"spec":{"containers":[{"name":"b"}]}}"#, object, kind: "Widget")
        #expect(result["metadata"]?["finalizers"] == ["b", "a"])
        #expect(result["spec"]?["containers"] == [["name": "b"]])
    }

    // MARK: Primitive lists

    @Test func finalizersMergeAsASetAndDeleteFromPrimitiveList() throws {
        let object: JSONValue = ["metadata": ["finalizers": ["a", "b"]]]
        let added = try patch(#"{"metadata":{"finalizers":["b","c"]}}"#, object, kind: "Namespace")
        #expect(added["metadata"]?["finalizers"] == ["a", "b", "c"])
        let removed = try patch(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a","x"]}}"#, object, kind: "Namespace")
        #expect(removed["metadata"]?["finalizers"] == ["b"])
        let emptied = try patch(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a","b"]}}"#, object, kind: "Namespace")
        #expect(emptied["metadata"]?["finalizers"] == nil)
        let ordered = try patch(
            #"{"metadata":{"$setElementOrder/finalizers":["c","b"],"finalizers":["c"],"$deleteFromPrimitiveList/finalizers":["a"]}}"#,
            object, kind: "Namespace")
        #expect(ordered["metadata"]?["finalizers"] == ["c", "b"])
    }

    // MARK: $setElementOrder

    @Test func setElementOrderReordersMergedItems() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a", "v": 1], ["name": "b"], ["name": "c"]]]]
        let result = try patch(
            #"{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}],"containers":[{"name":"c","v":3},{"name":"a","v":2}]}}"#,
            pod, kind: "Pod")
        // b was only on the server and stood before c: it stays before c.
        #expect(result["spec"]?["containers"] == [["name": "b"], ["name": "c", "v": 3], ["name": "a", "v": 2]])
    }

    @Test func setElementOrderWithoutPatchListOnlyReorders() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a"], ["name": "b"]]]]
        let result = try patch(#"{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}}"#, pod, kind: "Pod")
        #expect(result["spec"]?["containers"] == [["name": "b"], ["name": "a"]])
    }

    @Test func setElementOrderPlacesNewItems() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a"], ["name": "b"]]]]
        let result = try patch(
            #"{"spec":{"$setElementOrder/containers":[{"name":"new"},{"name":"a"},{"name":"b"}],"containers":[{"name":"new"}]}}"#,
            pod, kind: "Pod")
        #expect(result["spec"]?["containers"] == [["name": "new"], ["name": "a"], ["name": "b"]])
    }

    @Test func setElementOrderOnAListTheServerDoesNotHaveYet() throws {
        let result = try patch(
            #"{"spec":{"$setElementOrder/initContainers":[{"name":"i"}],"initContainers":[{"name":"i","image":"busybox"}]}}"#,
            ["spec": ["containers": [["name": "a"]]]], kind: "Pod")
        #expect(result["spec"]?["initContainers"] == [["name": "i", "image": "busybox"]])
    }

    // MARK: Errors

    @Test func malformedDirectivesAreRejected() throws {
        let pod: JSONValue = ["spec": ["containers": [["name": "a"]]]]
        func failure(_ body: String, kind: String = "Pod") -> StrategicMergePatchError? {
            do {
                _ = try patch(body, pod, kind: kind)
                return nil
            } catch {
                return error as? StrategicMergePatchError
            }
        }
        #expect(failure(#"{"spec":{"$patch":"bogus"}}"#)?.message.hasPrefix("unknown patch type: \"bogus\" in map:") == true)
        #expect(failure(#"{"spec":{"containers":[{"image":"x"}]}}"#)?.message
            == #"map: {"image":"x"} does not contain declared merge key: name"#)
        #expect(failure(#"{"spec":{"containers":[{"$patch":"delete"}]}}"#)?.message.contains("does not contain declared merge key: name") == true)
        #expect(failure(#"{"spec":{"containers":[{"$patch":"merge"}]}}"#)?.message == "merging lists cannot yet be specified in the patch")
        #expect(failure(#"{"spec":{"containers":["a"]}}"#) != nil)
        #expect(failure(#"{"spec":{"$setElementOrder/containers":{"name":"a"}}}"#) == StrategicMergePatchError("invalid patch format of setElementOrder list"))
        #expect(failure(#"{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"a"},{"name":"b"}]}}"#)?.message
            .hasPrefix("The order in patch list:") == true)
        #expect(failure(#"{"spec":{"$retainKeys":"type"}}"#) == StrategicMergePatchError("invalid patch format of retainKeys"))
        #expect(failure(#"{"spec":{"$retainKeys":["a"],"b":1}}"#)?.statusCode == 422)
        #expect(failure(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}"#) == StrategicMergePatchError("invalid patch format of primitive list"))
        #expect(failure(#"{"spec":{"$bogus":1}}"#)?.message.hasPrefix("unknown strategic merge patch directive \"$bogus\"") == true)
        #expect(throws: StrategicMergePatchError.self) { try StrategicMergePatch.apply(["a"], to: pod, kind: "Pod") }
    }

    @Test func topLevelReplace() throws {
        let result = try patch(#"{"$patch":"replace","data":{"x":"1"}}"#, ["data": ["y": "2"], "metadata": ["name": "n"]], kind: "ConfigMap")
        #expect(result == ["data": ["x": "1"]])
    }

    @Test func schemaTableCoversPodTemplatesOfWorkloads() {
        for kind in ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"] {
            let schema = StrategicMergePatchSchema.forKind(kind)
            #expect(schema.strategy(at: "spec.template.spec.containers") == .mergeByKey("name"), "\(kind)")
            #expect(schema.strategy(at: "spec.template.spec.containers[].ports") == .mergeByKey("containerPort"))
            #expect(schema.strategy(at: "spec.template.spec.initContainers[].env") == .mergeByKey("name"))
            #expect(schema.strategy(at: "spec.template.spec.volumes") == .mergeByKey("name"))
            #expect(schema.strategy(at: "spec.template.spec.tolerations") == nil)
            #expect(schema.strategy(at: "metadata.finalizers") == .mergeSet)
        }
        #expect(StrategicMergePatchSchema.forKind("CronJob").strategy(at: "spec.jobTemplate.spec.template.spec.containers") == .mergeByKey("name"))
        #expect(StrategicMergePatchSchema.forKind("Pod").strategy(at: "spec.containers[].volumeMounts") == .mergeByKey("mountPath"))
        #expect(StrategicMergePatchSchema.forKind("Service").strategy(at: "spec.ports") == .mergeByKey("port"))
    }
}
