import KubeClient
import Testing

@testable import SandboxAPIMachinery

/// The decoder against the real server's messages for each kind of mistake a manifest makes.
@Suite struct TypedDecoderTests {
    func decode(_ json: String, as kind: String) throws -> TypedDecoder.Result {
        try TypedDecoder.decode(try OrderedJSON.parse(Array(json.utf8)), as: kind)
    }

    func failure(_ json: String, as kind: String) -> String? {
        do {
            _ = try decode(json, as: kind)
            return nil
        } catch let error as TypedDecoder.Failure {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test("a value of the wrong type names the Go struct, the path and the Go type")
    func typeMismatches() {
        #expect(failure(#"{"spec":{"replicas":"two"}}"#, as: "Deployment")
                == "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")
        #expect(failure(#"{"spec":{"containers":[{"name":"c","env":[{"name":true}]}]}}"#, as: "Pod")
                == "json: cannot unmarshal bool into Go struct field EnvVar.spec.containers.env.name of type string")
        #expect(failure(#"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":"eighty"}]}]}}"#, as: "Pod")
                == "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32")
        #expect(failure(#"{"spec":"x"}"#, as: "Deployment")
                == "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec")
        #expect(failure(#"{"spec":{"containers":{"name":"c"}}}"#, as: "Pod")
                == "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container")
        #expect(failure(#"{"metadata":{"labels":["a"]}}"#, as: "ConfigMap")
                == "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string")
        #expect(failure(#"{"metadata":{"labels":{"a":1}}}"#, as: "ConfigMap")
                == "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string")
        #expect(failure(#"{"spec":{"ports":[{"port":80,"protocol":5}]}}"#, as: "Service")
                == "json: cannot unmarshal number into Go struct field ServicePort.spec.ports.protocol of type v1.Protocol")
    }

    @Test("numbers must be integers that fit the field")
    func integers() {
        #expect(failure(#"{"spec":{"replicas":1.5}}"#, as: "Deployment")
                == "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32")
        #expect(failure(#"{"spec":{"replicas":3000000000}}"#, as: "Deployment")
                == "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32")
        #expect(failure(#"{"spec":{"replicas":1e2}}"#, as: "Deployment")
                == "json: cannot unmarshal number 1e2 into Go struct field DeploymentSpec.spec.replicas of type int32")
        // int64 fields take what int32 fields cannot.
        #expect(failure(#"{"spec":{"containers":[],"terminationGracePeriodSeconds":3000000000}}"#, as: "Pod") == nil)
    }

    @Test("the first type error in the document is the one reported")
    func firstErrorWins() {
        #expect(failure(#"{"spec":{"paused":"no","replicas":"two"}}"#, as: "Deployment")
                == "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool")
        #expect(failure(#"{"spec":{"replicas":"two","paused":"no"}}"#, as: "Deployment")
                == "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")
    }

    @Test("IntOrString, Quantity and Time end the decoding with their own errors")
    func unmarshalers() {
        #expect(failure(#"{"spec":{"ports":[{"port":80,"targetPort":true}]}}"#, as: "Service")
                == "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32")
        #expect(failure(#"{"spec":{"ports":[{"port":80,"targetPort":1.5}]}}"#, as: "Service")
                == "json: cannot unmarshal number 1.5 into Go struct field ServicePort.spec.ports.targetPort of type int32")
        #expect(failure(#"{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"lots"}}}]}}"#, as: "Pod")
                == QuantitySyntax.formatError)
        #expect(failure(#"{"spec":{"containers":[{"name":"c","resources":{"limits":{"memory":"1Zi"}}}]}}"#, as: "Pod")
                == QuantitySyntax.formatError)
        #expect(failure(#"{"spec":{"containers":[{"name":"c","resources":{"limits":{"memory":"5mm"}}}]}}"#, as: "Pod")
                == "unable to parse quantity's suffix")
        #expect(failure(#"{"metadata":{"creationTimestamp":"yesterday"}}"#, as: "ConfigMap")
                == #"parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006""#)
        #expect(failure(#"{"metadata":{"creationTimestamp":5}}"#, as: "ConfigMap")
                == "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string")
        // An Unmarshaler's error ends the decoding: it wins over a type error saved before it.
        #expect(failure(#"{"spec":{"replicas":"x","template":{"metadata":{"creationTimestamp":"now"}}}}"#, as: "Deployment")
                == #"parsing time "now" as "2006-01-02T15:04:05Z07:00": cannot parse "now" as "2006""#)
    }

    @Test("quantities, int-or-strings and times that are right are kept as written")
    func goodSpecialValues() throws {
        let result = try decode(#"""
            {"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"500m","memory":"1Gi"},"requests":{"cpu":1}},
             "livenessProbe":{"httpGet":{"port":"http"}}}]},"metadata":{"creationTimestamp":"2024-05-01T12:34:56Z"}}
            """#, as: "Pod")
        let container = result.object["spec"]?["containers"]?[0]
        #expect(container?["resources"]?["limits"] == ["cpu": "500m", "memory": "1Gi"])
        #expect(container?["resources"]?["requests"]?["cpu"] == "1")
        #expect(container?["livenessProbe"]?["httpGet"]?["port"] == "http")
        #expect(result.object["metadata"]?["creationTimestamp"] == "2024-05-01T12:34:56Z")
        #expect(result.strictErrors.isEmpty)
    }

    @Test("a Secret's data is base64, checked as Go's decoder checks it")
    func secretData() {
        #expect(failure(#"{"data":{"a":"aGVsbG8="}}"#, as: "Secret") == nil)
        #expect(failure(#"{"data":{"a":"hello!"}}"#, as: "Secret") == "illegal base64 data at input byte 5")
        #expect(failure(#"{"data":{"a":"abc"}}"#, as: "Secret") == "illegal base64 data at input byte 0")
        #expect(failure(#"{"data":{"a":5}}"#, as: "Secret")
                == "json: cannot unmarshal number into Go struct field Secret.data of type []uint8")
    }

    @Test("unknown fields are dropped and named by their path, list indices included")
    func unknownFields() throws {
        let result = try decode(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","colour":"red"},
             "spec":{"foo":1,"template":{"spec":{"containers":[{"name":"a"},{"name":"b","imagePullSecret":"x"}]}}}}
            """#, as: "Deployment")
        #expect(result.strictErrors == [
            #"unknown field "metadata.colour""#, #"unknown field "spec.foo""#,
            #"unknown field "spec.template.spec.containers[1].imagePullSecret""#,
        ])
        #expect(result.object["metadata"] == ["name": "web"])
        #expect(result.object["spec"]?["foo"] == nil)
        #expect(result.object["spec"]?["template"]?["spec"]?["containers"]?[1] == ["name": "b"])
        #expect(result.object["apiVersion"] == "apps/v1")
    }

    @Test("field names are case-sensitive, as in the real server's decoder")
    func caseSensitive() throws {
        let result = try decode(#"{"spec":{"Replicas":3}}"#, as: "Deployment")
        #expect(result.strictErrors == [#"unknown field "spec.Replicas""#])
        #expect(result.object["spec"] == [:])
    }

    @Test("a field given twice is a strict error; the last value wins, objects merge")
    func duplicates() throws {
        let result = try decode(#"""
            {"metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},"metadata":{"namespace":"ns"}}
            """#, as: "ConfigMap")
        #expect(result.strictErrors == [#"duplicate field "metadata.name""#, #"duplicate field "metadata.labels.x""#, #"duplicate field "metadata""#])
        #expect(result.object["metadata"] == ["name": "b", "labels": ["x": "2"], "namespace": "ns"])
    }

    @Test("inlined structs: a volume's source and a probe's handler sit beside their own fields")
    func inlineFields() throws {
        let result = try decode(#"""
            {"spec":{"volumes":[{"name":"v","emptyDir":{}}],
             "containers":[{"name":"c","readinessProbe":{"tcpSocket":{"port":80},"periodSeconds":5}}]}}
            """#, as: "Pod")
        #expect(result.strictErrors.isEmpty)
        #expect(result.object["spec"]?["volumes"]?[0] == ["name": "v", "emptyDir": [:]])
        #expect(result.object["spec"]?["containers"]?[0]?["readinessProbe"] == ["tcpSocket": ["port": 80], "periodSeconds": 5])
        // The Go path of an inlined field names the embedded struct.
        #expect(failure(#"{"spec":{"containers":[{"name":"c","readinessProbe":{"exec":{"command":"ls"}}}]}}"#, as: "Pod")
                == "json: cannot unmarshal string into Go struct field ExecAction.spec.containers.readinessProbe.ProbeHandler.exec.command of type []string")
    }

    @Test("what Go would not write back is not stored: nulls, empty omitempty values")
    func normalization() throws {
        let result = try decode(#"""
            {"metadata":{"name":"p","labels":null,"annotations":{}},
             "spec":{"hostNetwork":false,"nodeName":"","enableServiceLinks":false,"containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":0}]}]}}
            """#, as: "Pod")
        #expect(result.object["metadata"] == ["name": "p"])
        let spec = result.object["spec"]
        #expect(spec?["hostNetwork"] == nil && spec?["nodeName"] == nil)
        // A pointer keeps its zero: enableServiceLinks: false means something.
        #expect(spec?["enableServiceLinks"] == false)
        #expect(spec?["containers"]?[0]?["ports"]?[0] == ["containerPort": 80])
    }

    @Test("JSONValue input decodes like its JSON (in key order)")
    func fromJSONValue() throws {
        let value: JSONValue = ["spec": ["replicas": "two"]]
        #expect(throws: TypedDecoder.Failure(message: "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")) {
            try TypedDecoder.decode(value, as: "Deployment")
        }
        let ok = try TypedDecoder.decode(["spec": ["replicas": 2, "bogus": true]], as: "Deployment")
        #expect(ok.object == ["spec": ["replicas": 2]])
        #expect(ok.strictErrors == [#"unknown field "spec.bogus""#])
    }
}
