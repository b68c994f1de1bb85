import KubeClient
import Testing

@testable import SandboxAPIMachinery

/// Each rule of the semantic validation, with the path and message the real server reports.
@Suite struct ObjectValidationTests {
    static let pod = ObjectValidation.Kind(kind: "Pod", resource: "pods", namespaced: true)
    static let deployment = ObjectValidation.Kind(kind: "Deployment", resource: "deployments", namespaced: true)
    static let service = ObjectValidation.Kind(kind: "Service", resource: "services", namespaced: true)

    /// A defaulted pod with one container, changed by `edit`.
    static func pod(_ edit: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
        var container: JSONValue = [
            "name": "web", "image": "nginx", "imagePullPolicy": "Always", "terminationMessagePolicy": "File",
            "ports": [["containerPort": 8080, "protocol": "TCP", "name": "http"]], "env": [["name": "MODE", "value": "x"]],
        ]
        edit(&container)
        return ["metadata": ["name": "p"], "spec": ["containers": [container], "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"]]
    }

    func messages(_ object: JSONValue, _ kind: ObjectValidation.Kind, old: JSONValue? = nil, rules: ObjectValidation.Rules = .current) -> [String] {
        ObjectValidation.errors(object, kind: kind, old: old, rules: rules).map(\.description)
    }

    @Test("a valid pod has no errors")
    func validPod() {
        #expect(messages(Self.pod(), Self.pod).isEmpty)
    }

    @Test("container ports: 1-65535, required, a known protocol, unique IANA names")
    func containerPorts() {
        #expect(messages(Self.pod { $0["ports"] = [["containerPort": 70000, "protocol": "TCP"]] }, Self.pod)
                == ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"])
        #expect(messages(Self.pod { $0["ports"] = [["protocol": "TCP"]] }, Self.pod)
                == ["spec.containers[0].ports[0].containerPort: Required value"])
        #expect(messages(Self.pod { $0["ports"] = [["containerPort": 80, "protocol": "HTTP"]] }, Self.pod)
                == [#"spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP""#])
        #expect(messages(Self.pod { $0["ports"] = [["containerPort": 80, "protocol": "TCP", "name": "a"], ["containerPort": 81, "protocol": "TCP", "name": "a"]] }, Self.pod)
                == [#"spec.containers[0].ports[1].name: Duplicate value: "a""#])
        #expect(messages(Self.pod { $0["ports"] = [["containerPort": 80, "protocol": "TCP", "name": "HTTP"]] }, Self.pod)
                == [#"spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numerics and '-'"#,
                    #"spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)"#])
    }

    @Test("containers: a name that is a DNS label, unique; an image")
    func containers() {
        #expect(messages(Self.pod { $0["image"] = nil }, Self.pod) == ["spec.containers[0].image: Required value"])
        #expect(messages(Self.pod { $0["name"] = nil }, Self.pod) == ["spec.containers[0].name: Required value"])
        #expect(messages(Self.pod { $0["name"] = "Web" }, Self.pod) == [
            #"spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#,
        ])
        var twice = Self.pod()
        twice["spec"]?["containers"] = [Self.pod()["spec"]!["containers"]![0]!, Self.pod()["spec"]!["containers"]![0]!]
        #expect(messages(twice, Self.pod) == [#"spec.containers[1].name: Duplicate value: "web""#])
        var none = Self.pod()
        none["spec"]?["containers"] = []
        #expect(messages(none, Self.pod) == ["spec.containers: Required value"])
    }

    @Test("env names: printable ASCII but '=' in 1.32+, the C-identifier-like rule before")
    func envNames() {
        let bad = Self.pod { $0["env"] = [["name": "1A"], ["name": "A=B"], ["name": ""]] }
        #expect(messages(bad, Self.pod) == [
            #"spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='"#,
            "spec.containers[0].env[2].name: Required value",
            #"spec.containers[0].env[2].name: Invalid value: "": environment variable name must be non-empty"#,
        ])
        #expect(messages(Self.pod { $0["env"] = [["name": "1A"]] }, Self.pod, rules: .before132) == [
            #"spec.containers[0].env[0].name: Invalid value: "1A": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"#,
        ])
        #expect(PodSpecValidation.envVarNameErrors("..x") == ["must not start with '..'"])
        #expect(messages(Self.pod { $0["env"] = [["name": "A", "value": "x", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]]] }, Self.pod)
                == [#"spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty"#])
    }

    @Test("volumes have one source and a name; mounts name a volume of the pod and a unique path")
    func volumes() {
        var pod = Self.pod { $0["volumeMounts"] = [["name": "data", "mountPath": "/d"], ["name": "cache", "mountPath": "/d"]] }
        pod["spec"]?["volumes"] = [["name": "data", "emptyDir": [:]], ["name": "nothing"]]
        #expect(messages(pod, Self.pod) == [
            "spec.volumes[1]: Required value: must specify a volume type",
            #"spec.containers[0].volumeMounts[1].name: Not found: "cache""#,
            #"spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique"#,
        ])
    }

    @Test("pod policies: restart, DNS, image pull")
    func policies() {
        var pod = Self.pod { $0["imagePullPolicy"] = "Sometimes" }
        pod["spec"]?["restartPolicy"] = "Maybe"
        #expect(messages(pod, Self.pod) == [
            #"spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never""#,
            #"spec.restartPolicy: Unsupported value: "Maybe": supported values: "Always", "OnFailure", "Never""#,
        ])
    }

    @Test("metadata: names by the kind's rule, labels, annotations, owner references")
    func metadata() {
        var pod = Self.pod()
        pod["metadata"] = ["name": "P", "labels": ["app": "bad value"], "annotations": ["-x": "y"], "ownerReferences": [["kind": "ReplicaSet", "name": "rs"]]]
        let found = messages(pod, Self.pod)
        #expect(found.count == 5)
        #expect(found[0].hasPrefix(#"metadata.name: Invalid value: "P": a lowercase RFC 1123 subdomain"#))
        #expect(found[1].hasPrefix(#"metadata.labels: Invalid value: "bad value": a valid label must be an empty string"#))
        #expect(found[2].hasPrefix(#"metadata.annotations: Invalid value: "-x": name part must consist of alphanumeric characters"#))
        #expect(found[3] == #"metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty"#)
        #expect(found[4] == #"metadata.ownerReferences.uid: Invalid value: "": uid must not be empty"#)
    }

    /// A defaulted deployment of `app: web`.
    static func deployment(_ edit: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
        var spec: JSONValue = [
            "replicas": 1, "selector": ["matchLabels": ["app": "web"]], "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]],
            "template": ["metadata": ["labels": ["app": "web"]], "spec": pod()["spec"]!],
        ]
        edit(&spec)
        return ["metadata": ["name": "web"], "spec": spec]
    }

    @Test("workloads: replicas >= 0, a selector that exists and matches the template, pods that restart Always")
    func workloads() {
        #expect(messages(Self.deployment(), Self.deployment).isEmpty)
        #expect(messages(Self.deployment { $0["replicas"] = -1 }, Self.deployment)
                == ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"])
        #expect(messages(Self.deployment { $0["selector"] = ["matchLabels": ["app": "api"]] }, Self.deployment)
                == [#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#])
        #expect(messages(Self.deployment { $0["selector"] = nil }, Self.deployment) == ["spec.selector: Required value"])
        #expect(messages(Self.deployment { $0["selector"] = [:] }, Self.deployment)
                == ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"])
        #expect(messages(Self.deployment { $0["template"]?["spec"]?["restartPolicy"] = "Never" }, Self.deployment)
                == [#"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#])
        #expect(messages(Self.deployment { $0["template"]?["spec"]?["containers"] = [Self.pod { $0["image"] = "" }["spec"]!["containers"]![0]!] }, Self.deployment)
                == ["spec.template.spec.containers[0].image: Required value"])
        #expect(messages(Self.deployment { $0["strategy"]?["rollingUpdate"] = ["maxSurge": 0, "maxUnavailable": 0] }, Self.deployment)
                == ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"])
        #expect(messages(Self.deployment(), Self.deployment, old: Self.deployment { $0["selector"] = ["matchLabels": ["app": "old"]] })
                == [#"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#])
        #expect(WorkloadValidation.scale(["spec": ["replicas": -2]]).map(\.description)
                == ["spec.replicas: Invalid value: -2: must be greater than or equal to 0"])
    }

    static func service(_ ports: JSONValue) -> JSONValue {
        ["metadata": ["name": "web"], "spec": ["type": "ClusterIP", "sessionAffinity": "None", "ports": ports]]
    }

    @Test("services: ports in range, named when several, target ports by number or IANA name")
    func services() {
        #expect(messages(Self.service([["port": 80, "protocol": "TCP", "targetPort": "http"]]), Self.service).isEmpty)
        #expect(messages(Self.service([["port": 70000, "protocol": "TCP", "targetPort": 8080]]), Self.service)
                == ["spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"])
        #expect(messages(Self.service([["port": 80, "protocol": "TCP", "targetPort": 65536]]), Self.service)
                == ["spec.ports[0].targetPort: Invalid value: 65536: must be between 1 and 65535, inclusive"])
        #expect(messages(Self.service([["port": 80, "protocol": "TCP", "targetPort": "not_a_name"]]), Self.service)
                == [#"spec.ports[0].targetPort: Invalid value: "not_a_name": must contain only alpha-numerics and '-'"#])
        #expect(messages(Self.service([["port": 80, "protocol": "TCP", "targetPort": 80], ["port": 81, "protocol": "TCP", "targetPort": 81]]), Self.service)
                == ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"])
        #expect(messages(Self.service([]), Self.service) == ["spec.ports: Required value"])
    }

    @Test("config maps and secrets: keys are config keys")
    func configData() {
        let kind = ObjectValidation.Kind(kind: "ConfigMap", resource: "configmaps", namespaced: true)
        #expect(messages(["metadata": ["name": "c"], "data": ["a b": "x"]], kind) == [
            #"data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"#,
        ])
    }

    @Test("RBAC: rules need verbs, groups and resources; bindings a known roleRef and proper subjects")
    func rbac() {
        let role = ObjectValidation.Kind(kind: "Role", resource: "roles", namespaced: true)
        #expect(messages(["metadata": ["name": "r"], "rules": [["resources": ["pods"]]]], role) == [
            "rules[0].verbs: Required value: verbs must contain at least one value",
            "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
        ])
        let binding = ObjectValidation.Kind(kind: "ClusterRoleBinding", resource: "clusterrolebindings", namespaced: false)
        let object: JSONValue = [
            "metadata": ["name": "b"], "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"],
            "subjects": [["kind": "ServiceAccount", "name": "sa"], ["kind": "Robot", "name": "x"]],
        ]
        #expect(messages(object, binding) == [
            #"roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole""#,
            "subjects[0].namespace: Required value",
            #"subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group""#,
        ])
        let namespaced = ObjectValidation.Kind(kind: "RoleBinding", resource: "rolebindings", namespaced: true)
        var changed = object
        changed["roleRef"]?["name"] = "other"
        changed["subjects"] = []
        #expect(messages(changed, namespaced, old: object)
                == [#"roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef"#])
    }

    @Test("webhook configurations: qualified names, side effects, review versions, one client config")
    func webhookConfigurations() {
        let kind = ObjectValidation.Kind(kind: "MutatingWebhookConfiguration", resource: "mutatingwebhookconfigurations", namespaced: false)
        let object: JSONValue = ["metadata": ["name": "w"], "webhooks": [["name": "inject", "clientConfig": [:]]]]
        #expect(messages(object, kind) == [
            #"webhooks[0].name: Invalid value: "inject": should be a domain with at least three segments separated by dots"#,
            "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
            "webhooks[0].clientConfig: Required value: exactly one of url or service is required",
            "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
        ])
    }

    @Test("the 422 message: one error plain, several in brackets, a repeated one once")
    func aggregate() {
        let errors: [FieldError] = [.required("spec.a"), .required("spec.a"), .invalid("spec.b", 5, "too big")]
        #expect(FieldError.invalidObjectMessage(qualifiedKind: "Deployment.apps", name: "web", errors: errors)
                == #"Deployment.apps "web" is invalid: [spec.a: Required value, spec.b: Invalid value: 5: too big]"#)
    }
}
