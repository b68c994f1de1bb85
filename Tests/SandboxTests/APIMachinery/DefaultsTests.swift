import KubeClient
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite struct DefaultsTests {
    private func defaulted(_ resource: String, _ object: JSONValue) -> JSONValue {
        var copy = object
        Defaults.apply(resource: resource, to: &copy)
        return copy
    }

    let template: JSONValue = [
        "metadata": ["labels": ["app": "web"]],
        "spec": ["containers": [["name": "c", "image": "nginx:1.25", "ports": [["containerPort": 80]]]]],
    ]

    @Test func deploymentGetsWhatRolloutStatusNeeds() {
        let result = defaulted("deployments", ["spec": ["selector": ["matchLabels": ["app": "web"]], "template": template]])
        let spec = result["spec"]
        #expect(spec?["replicas"] == 1)
        #expect(spec?["strategy"] == ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]])
        #expect(spec?["revisionHistoryLimit"] == 10)
        #expect(spec?["progressDeadlineSeconds"] == 600)
        let podSpec = spec?["template"]?["spec"]
        #expect(podSpec?["restartPolicy"] == "Always")
        #expect(podSpec?["dnsPolicy"] == "ClusterFirst")
        #expect(podSpec?["terminationGracePeriodSeconds"] == 30)
        #expect(podSpec?["schedulerName"] == "default-scheduler")
        #expect(podSpec?["securityContext"] == [:])
        // Admission and SetDefaults_Pod defaults belong to pods, not templates.
        #expect(podSpec?["serviceAccountName"] == nil)
        #expect(podSpec?["enableServiceLinks"] == nil)
        #expect(podSpec?["tolerations"] == nil)
        let container = podSpec?["containers"]?[0]
        #expect(container?["imagePullPolicy"] == "IfNotPresent")
        #expect(container?["terminationMessagePath"] == "/dev/termination-log")
        #expect(container?["terminationMessagePolicy"] == "File")
        #expect(container?["ports"]?[0]?["protocol"] == "TCP")
    }

    @Test func explicitValuesAreKept() {
        let result = defaulted("deployments", [
            "spec": ["replicas": 0, "strategy": ["type": "Recreate"], "template": template],
        ])
        #expect(result["spec"]?["replicas"] == 0)
        #expect(result["spec"]?["strategy"] == ["type": "Recreate"])
    }

    @Test func replicaSetAndStatefulSet() {
        #expect(defaulted("replicasets", ["spec": ["template": template]])["spec"]?["replicas"] == 1)
        let sts = defaulted("statefulsets", ["spec": ["serviceName": "web", "template": template]])["spec"]
        #expect(sts?["replicas"] == 1)
        #expect(sts?["podManagementPolicy"] == "OrderedReady")
        #expect(sts?["updateStrategy"] == ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        #expect(sts?["revisionHistoryLimit"] == 10)
        #expect(sts?["persistentVolumeClaimRetentionPolicy"] == ["whenDeleted": "Retain", "whenScaled": "Retain"])
        #expect(sts?["template"]?["spec"]?["containers"]?[0]?["imagePullPolicy"] == "IfNotPresent")
        let onDelete = defaulted("statefulsets", ["spec": ["updateStrategy": ["type": "OnDelete"]]])
        #expect(onDelete["spec"]?["updateStrategy"] == ["type": "OnDelete"])
    }

    @Test func podsGetAdmissionDefaultsToo() {
        let pod = defaulted("pods", ["metadata": ["name": "p"], "spec": template["spec"]!])
        let spec = pod["spec"]
        #expect(spec?["serviceAccountName"] == "default")
        #expect(spec?["serviceAccount"] == "default")
        #expect(spec?["priority"] == 0)
        #expect(spec?["enableServiceLinks"] == true)
        #expect(spec?["tolerations"]?.arrayValue?.count == 2)
        #expect(spec?["tolerations"]?[0] == [
            "key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300,
        ])
        // Applying twice changes nothing.
        #expect(defaulted("pods", pod) == pod)
    }

    @Test func podContainersDetails() {
        let pod = defaulted("pods", [
            "spec": [
                "hostNetwork": true,
                "containers": [[
                    "name": "c", "image": "app",
                    "ports": [["containerPort": 8080]],
                    "resources": ["limits": ["cpu": "1"]],
                    "readinessProbe": ["httpGet": ["port": 8080]],
                    "env": [["name": "POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]]],
                ]],
                "volumes": [["name": "s", "secret": ["secretName": "x"]], ["name": "e"]],
            ],
        ])
        let container = pod["spec"]?["containers"]?[0]
        #expect(container?["imagePullPolicy"] == "Always")
        #expect(container?["ports"]?[0] == ["containerPort": 8080, "hostPort": 8080, "protocol": "TCP"])
        #expect(container?["resources"]?["requests"] == ["cpu": "1"])
        #expect(container?["readinessProbe"] == [
            "httpGet": ["port": 8080, "path": "/", "scheme": "HTTP"],
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
        ])
        #expect(container?["env"]?[0]?["valueFrom"]?["fieldRef"]?["apiVersion"] == "v1")
        #expect(pod["spec"]?["volumes"] == [["name": "s", "secret": ["secretName": "x", "defaultMode": 420]], ["name": "e", "emptyDir": [:]]])
    }

    @Test(arguments: [
        ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
        ("localhost:5000/app", "Always"), ("localhost:5000/app:v1", "IfNotPresent"),
        ("nginx@sha256:abc", "IfNotPresent"), ("nginx:latest@sha256:abc", "Always"), ("", "Always"),
    ])
    func imagePullPolicyFollowsTheTag(_ image: String, _ policy: String) {
        #expect(Defaults.imagePullPolicy(forImage: image) == policy)
    }

    @Test func service() {
        let spec = defaulted("services", ["spec": ["selector": ["app": "web"], "ports": [["port": 80], ["port": 443, "targetPort": "https"]]]])["spec"]
        #expect(spec?["type"] == "ClusterIP")
        #expect(spec?["sessionAffinity"] == "None")
        #expect(spec?["ports"] == [
            ["port": 80, "targetPort": 80, "protocol": "TCP"], ["port": 443, "targetPort": "https", "protocol": "TCP"],
        ])
        #expect(spec?["ipFamilies"] == ["IPv4"])
        #expect(spec?["ipFamilyPolicy"] == "SingleStack")
        #expect(spec?["internalTrafficPolicy"] == "Cluster")
        #expect(spec?["externalTrafficPolicy"] == nil)

        let nodePort = defaulted("services", ["spec": ["type": "NodePort", "clusterIP": "10.96.0.5", "ports": [["port": 80]]]])["spec"]
        #expect(nodePort?["externalTrafficPolicy"] == "Cluster")
        #expect(nodePort?["clusterIPs"] == ["10.96.0.5"])
        let external = defaulted("services", ["spec": ["type": "ExternalName", "externalName": "example.com"]])["spec"]
        #expect(external?["ipFamilies"] == nil)
        let sticky = defaulted("services", ["spec": ["sessionAffinity": "ClientIP"]])["spec"]
        #expect(sticky?["sessionAffinityConfig"] == ["clientIP": ["timeoutSeconds": 10800]])
    }

    @Test func namespaceSecretAndOthers() {
        let namespace = defaulted("namespaces", ["metadata": ["name": "dev"]])
        #expect(namespace["metadata"]?["labels"] == ["kubernetes.io/metadata.name": "dev"])
        #expect(namespace["spec"] == ["finalizers": ["kubernetes"]])
        #expect(namespace["status"] == ["phase": "Active"])
        #expect(defaulted("secrets", ["data": [:]])["type"] == "Opaque")
        #expect(defaulted("secrets", ["type": "kubernetes.io/tls"])["type"] == "kubernetes.io/tls")
        #expect(defaulted("configmaps", ["data": ["a": "1"]]) == ["data": ["a": "1"]])
        let binding = defaulted("rolebindings", ["subjects": [["kind": "ServiceAccount", "name": "x"], ["kind": "User", "name": "u"]]])
        #expect(binding["subjects"]?[0]?["apiGroup"] == "")
        #expect(binding["subjects"]?[1]?["apiGroup"] == "rbac.authorization.k8s.io")
        let hooks = defaulted("mutatingwebhookconfigurations", [
            "webhooks": [["name": "agent.example.com", "clientConfig": ["service": ["name": "s", "namespace": "n"]], "rules": [["operations": ["CREATE"]]]]],
        ])
        #expect(hooks["webhooks"]?[0]?["failurePolicy"] == "Fail")
        #expect(hooks["webhooks"]?[0]?["reinvocationPolicy"] == "Never")
        #expect(hooks["webhooks"]?[0]?["timeoutSeconds"] == 10)
        #expect(hooks["webhooks"]?[0]?["clientConfig"]?["service"]?["port"] == 443)
        #expect(hooks["webhooks"]?[0]?["rules"]?[0]?["scope"] == "*")
    }
}
