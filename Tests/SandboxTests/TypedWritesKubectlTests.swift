import Foundation
import KubeClient
import Testing

/// What real kubectl binaries print when they send the sandbox what a real API server refuses:
/// values of the wrong type (400 while decoding), values out of range (422 `Invalid`), unknown
/// fields under `--validate=strict` (400) and `--validate=warn` (a warning, the field dropped),
/// patches whose result does not decode (422 on the patch). Nothing refused is stored, so kubectl
/// can always read back what is there.
@Suite("kubectl: typed and validated writes", .serialized)
struct TypedWritesKubectlTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: REPLICAS
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: nginx}]
        """

    static let podWithBoolEnvName = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
          - name: c
            image: nginx
            env: [{name: true, value: x}]
        """

    static let podWithWordPort = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers: [{name: c, image: nginx, ports: [{containerPort: "eighty"}]}]
        """

    static let serviceOutOfRange = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          selector: {app: web}
          ports: [{port: 70000, targetPort: 8080}]
        """

    static let roleWithoutVerbs = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: reader}
        rules: [{apiGroups: [""], resources: [pods]}]
        """

    static let deploymentWithUnknownFields = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: extra}
        spec:
          replicas: 1
          foo: bar
          selector: {matchLabels: {app: extra}}
          template:
            metadata: {labels: {app: extra}}
            spec:
              containers: [{name: web, image: nginx, imagePullSecret: x}]
        """

    func json(_ text: String) throws -> JSONValue { try JSONValue(data: Data(text.utf8)) }

    @Test("the issue's examples are refused with the real server's status and message, and not stored",
          .enabled(if: Kubectl.versions.allSatisfy(Kubectl.runnable)), arguments: Kubectl.versions)
    func refusedManifests(version: String) async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl(version)
            let cases: [(String, String)] = [
                (Self.deployment.replacingOccurrences(of: "REPLICAS", with: "\"two\""),
                 #"Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#),
                (Self.podWithBoolEnvName,
                 #"Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field EnvVar.spec.containers.env.name of type string"#),
                (Self.podWithWordPort,
                 #"Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32"#),
                (Self.serviceOutOfRange,
                 #"The Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"#),
                (Self.deployment.replacingOccurrences(of: "REPLICAS", with: "-1"),
                 #"The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#),
                (Self.deployment.replacingOccurrences(of: "REPLICAS", with: "1").replacingOccurrences(of: "matchLabels: {app: web}", with: "matchLabels: {app: api}"),
                 #"The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#),
                (Self.podWithBoolEnvName.replacingOccurrences(of: "name: true", with: "name: \"A=B\""),
                 #"The Pod "p" is invalid: spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='"#),
                (Self.roleWithoutVerbs,
                 #"The Role "reader" is invalid: rules[0].verbs: Required value: verbs must contain at least one value"#),
            ]
            for (manifest, message) in cases {
                let r = try await k.run(["apply", "-f", "-"] + k.validateFlags, stdin: manifest)
                #expect(r.status == 1 && r.stderr.contains(message), "\(r.output)")
            }
            let r = try await k.run(["get", "deployments,pods,services,roles", "-o", "name"])
            #expect(r.status == 0 && r.stdout.split(separator: "\n") == ["service/kubernetes"], "\(r.output)")
        }
    }

    @Test("unknown fields: refused by --validate=strict, a warning with --validate=warn, and never stored",
          .enabled(if: Kubectl.runnable("1.30") && Kubectl.runnable("1.33")), arguments: ["1.30", "1.33"])
    func unknownFields(version: String) async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl(version)
            var r = try await k.run(["create", "--validate=strict", "-f", "-"], stdin: Self.deploymentWithUnknownFields)
            #expect(r.status == 1 && r.stderr.contains(
                #"Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].imagePullSecret""#),
                "\(r.output)")
            r = try await k.run(["get", "deployment", "extra"])
            #expect(r.status == 1 && r.stderr.contains("NotFound"), "\(r.output)")

            r = try await k.run(["create", "--validate=warn", "-f", "-"], stdin: Self.deploymentWithUnknownFields)
            #expect(r.status == 0 && r.stdout.contains("deployment.apps/extra created"), "\(r.output)")
            #expect(r.stderr.contains(#"Warning: unknown field "spec.foo""#)
                    && r.stderr.contains(#"Warning: unknown field "spec.template.spec.containers[0].imagePullSecret""#), "\(r.output)")
            let stored = try json(try await k.run(["get", "deployment", "extra", "-o", "json"]).stdout)
            #expect(stored["spec"]?["foo"] == nil)
            #expect(stored["spec"]?["template"]?["spec"]?["containers"]?[0]?["imagePullSecret"] == nil)
            #expect(stored["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"] == "nginx")
        }
    }

    @Test("kubectl 1.27 without validation (fieldValidation=Ignore): unknown fields are dropped silently",
          .enabled(if: Kubectl.runnable("1.27")))
    func ignoredUnknownFields() async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl("1.27")
            let r = try await k.run(["apply", "--validate=false", "-f", "-"], stdin: Self.deploymentWithUnknownFields)
            #expect(r.status == 0 && r.stdout.contains("deployment.apps/extra created") && !r.stderr.contains("Warning"), "\(r.output)")
            let stored = try json(try await k.run(["get", "deployment", "extra", "-o", "json"]).stdout)
            #expect(stored["spec"]?["foo"] == nil && stored["spec"]?["replicas"] == 1)
        }
    }

    @Test("patches whose result does not decode or validate: each patch type's refusal",
          .enabled(if: Kubectl.runnable("1.33")))
    func refusedPatches() async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl("1.33")
            var r = try await k.run(["apply", "-f", "-"], stdin: Self.deployment.replacingOccurrences(of: "REPLICAS", with: "2"))
            #expect(r.status == 0, "\(r.output)")
            r = try await k.run(["patch", "deployment", "web", "-p", #"{"spec":{"replicas":"two"}}"#])
            #expect(r.status == 1 && r.stderr.contains(
                #"The request is invalid: patch: Invalid value: "map[spec:map[replicas:two]]": unrecognized type: int32"#), "\(r.output)")
            r = try await k.run(["patch", "deployment", "web", "--type", "merge", "-p", #"{"spec":{"replicas":"two"}}"#])
            #expect(r.status == 1 && r.stderr.contains("The request is invalid: patch: Invalid value: ")
                    && r.stderr.contains(": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"), "\(r.output)")
            r = try await k.run(["patch", "deployment", "web", "--type", "json", "-p", #"[{"op":"replace","path":"/spec/replicas","value":-3}]"#])
            #expect(r.status == 1 && r.stderr.contains(
                #"The Deployment "web" is invalid: spec.replicas: Invalid value: -3: must be greater than or equal to 0"#), "\(r.output)")
            r = try await k.run(["patch", "deployment", "web", "--type", "merge", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":70000}]}]}}}}"#])
            #expect(r.status == 1 && r.stderr.contains(
                #"The Deployment "web" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"#), "\(r.output)")
            // An unknown field in a patch: kubectl patch sends no fieldValidation, so Warn: the
            // field is dropped, the object unchanged.
            r = try await k.run(["patch", "deployment", "web", "--type", "merge", "-p", #"{"spec":{"foo":1}}"#])
            #expect(r.status == 0 && r.stderr.contains(#"Warning: unknown field "spec.foo""#)
                    && r.stdout.contains("deployment.apps/web patched (no change)"), "\(r.output)")
            let stored = try json(try await k.run(["get", "deployment", "web", "-o", "json"]).stdout)
            #expect(stored["spec"]?["replicas"] == 2)
        }
    }

    @Test("a Secret whose data is no base64 is refused as the real server refuses it", .enabled(if: Kubectl.runnable("1.33")))
    func secretData() async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl("1.33")
            let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: hunter2!}\n"
            let r = try await k.run(["apply", "-f", "-"], stdin: secret)
            #expect(r.status == 1 && r.stderr.contains(
                #"Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 7"#), "\(r.output)")
        }
    }

    @Test("kubectl 1.33's create subcommands send protobuf: decoded with the same schema, embedded structs inlined",
          .enabled(if: Kubectl.runnable("1.33")))
    func protobufCreates() async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl("1.33")
            var r = try await k.run(["create", "deployment", "pb", "--image=nginx", "--replicas=3", "--port=8080"])
            #expect(r.status == 0, "\(r.output)")
            r = try await k.run(["create", "secret", "generic", "s", "--from-literal=p=q"])
            #expect(r.status == 0, "\(r.output)")
            r = try await k.run(["create", "configmap", "c", "--from-literal=a=1"])
            #expect(r.status == 0, "\(r.output)")
            let deployment = try json(try await k.run(["get", "deployment", "pb", "-o", "json"]).stdout)
            #expect(deployment["spec"]?["replicas"] == 3)
            #expect(deployment["spec"]?["template"]?["spec"]?["containers"]?[0]?["ports"] == [["containerPort": 8080, "protocol": "TCP"]])
            // Go leaves empty non-pointer fields out of its JSON; protobuf carries them as zeros.
            #expect(deployment["spec"]?["paused"] == nil && deployment["spec"]?["minReadySeconds"] == nil)
            let secret = try json(try await k.run(["get", "secret", "s", "-o", "json"]).stdout)
            #expect(secret["data"] == ["p": "cQ=="] && secret["type"] == "Opaque")
            let configMap = try json(try await k.run(["get", "configmap", "c", "-o", "json"]).stdout)
            #expect(configMap["data"] == ["a": "1"])
        }
    }
}
