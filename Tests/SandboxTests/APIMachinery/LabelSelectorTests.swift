import KubeClient
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite struct LabelSelectorTests {
    let web: [String: String] = ["app": "web", "tier": "frontend", "track": "stable"]

    private func selects(_ text: String, _ labels: [String: String]) throws -> Bool {
        try LabelSelector(parsing: text).matches(labels)
    }

    @Test func equalityOperators() throws {
        #expect(try selects("app=web", web))
        #expect(try selects("app==web", web))
        #expect(try !selects("app=db", web))
        #expect(try selects("app!=db", web))
        #expect(try !selects("app!=web", web))
        // A missing label differs from every value.
        #expect(try selects("missing!=x", web))
        #expect(try !selects("missing=x", web))
    }

    @Test func setOperators() throws {
        #expect(try selects("tier in (frontend,backend)", web))
        #expect(try !selects("tier in (backend)", web))
        #expect(try selects("tier notin (backend, cache)", web))
        #expect(try !selects("tier notin (frontend)", web))
        #expect(try selects("missing notin (a)", web))
        #expect(try !selects("missing in (a)", web))
    }

    @Test func existence() throws {
        #expect(try selects("app", web))
        #expect(try !selects("missing", web))
        #expect(try selects("!missing", web))
        #expect(try !selects("!app", web))
    }

    @Test func commaMeansAndAndWhitespaceIsTolerated() throws {
        #expect(try selects("app=web,tier in (frontend),!canary", web))
        #expect(try !selects("app=web,tier=backend", web))
        #expect(try selects("  app = web ,  tier   in(frontend , x) ", web))
    }

    @Test func emptyValuesAndEverything() throws {
        #expect(try LabelSelector(parsing: "").isEverything)
        #expect(try LabelSelector(parsing: "   ").matches([:]))
        #expect(try selects("app=", ["app": ""]))
        #expect(try !selects("app=", web))
        #expect(try selects("app in (web,)", web))
    }

    @Test func numericComparisons() throws {
        #expect(try selects("replicas>2", ["replicas": "3"]))
        #expect(try !selects("replicas<2", ["replicas": "3"]))
        #expect(try !selects("replicas>2", ["replicas": "many"]))
    }

    @Test func rendersCanonicallySortedByKey() throws {
        let selector = try LabelSelector(parsing: "tier in (b,a),app==web,!canary,env")
        #expect(selector.description == "app==web,!canary,env,tier in (a,b)")
        #expect(try LabelSelector(parsing: selector.description) == selector)
    }

    @Test(arguments: [
        ("app=web,", "found '', expected: identifier after ','"),
        ("app=web app=db", "found 'app', expected: ',' or 'end of string'"),
        (",app", "found ',', expected: !, identifier, or 'end of string'"),
        ("app in web", "unable to parse requirement: found 'web', expected: '('"),
        ("app=(x)", "unable to parse requirement: found '(', expected: identifier"),
        ("!app=web", "found '=', expected: ',' or 'end of string'"),
    ])
    func syntaxErrorsCarryGoMessages(_ text: String, _ message: String) {
        #expect(throws: SelectorError(message)) { try LabelSelector(parsing: text) }
    }

    @Test func invalidKeysAndValuesAreRejected() {
        #expect {
            try LabelSelector(parsing: "bad key=x")
        } throws: { error in
            // "bad" then "key" is two identifiers.
            (error as? SelectorError)?.message.contains("expected") == true
        }
        #expect {
            try LabelSelector(parsing: "-app=x")
        } throws: { error in
            (error as? SelectorError)?.message.hasPrefix("unable to parse requirement: <nil>: Invalid value: \"-app\": name part must consist of") == true
        }
        #expect {
            try LabelSelector(parsing: "app=-x")
        } throws: { error in
            (error as? SelectorError)?.message.hasPrefix("unable to parse requirement: values[0][app]: Invalid value: \"-x\": a valid label must be") == true
        }
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: "n>abc") }
    }

    @Test func fromSelectorObject() throws {
        let json: JSONValue = [
            "matchLabels": ["app": "web"],
            "matchExpressions": [
                ["key": "tier", "operator": "In", "values": ["frontend", "backend"]],
                ["key": "canary", "operator": "DoesNotExist"],
                ["key": "track", "operator": "Exists"],
                ["key": "env", "operator": "NotIn", "values": ["prod"]],
            ],
        ]
        let selector = try LabelSelector(json: json)
        #expect(selector.matches(web))
        #expect(!selector.matches(web.merging(["canary": "yes"]) { a, _ in a }))
        #expect(selector.description == "app=web,!canary,env notin (prod),tier in (backend,frontend),track")
    }

    @Test func scaleSelectorStringForAPlainDeployment() throws {
        #expect(try LabelSelector(json: ["matchLabels": ["app": "web", "pod-template-hash": "abc"]]).description
            == "app=web,pod-template-hash=abc")
    }

    @Test func nullSelectsNothingAndEmptySelectsEverything() throws {
        #expect(!(try LabelSelector(json: .null)).matches(web))
        #expect(try LabelSelector(json: [:]).matches(web))
        #expect(throws: SelectorError("\"Near\" is not a valid label selector operator")) {
            try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "Near"]]])
        }
    }

    @Test func matchesObjectLabels() throws {
        let pod: JSONValue = ["metadata": ["name": "p", "labels": ["app": "web"]]]
        #expect(try LabelSelector(parsing: "app=web").matches(object: pod))
        #expect(try !LabelSelector(parsing: "app").matches(object: ["metadata": ["name": "q"]]))
    }
}

@Suite struct FieldSelectorTests {
    let pod: JSONValue = [
        "metadata": ["name": "web-1", "namespace": "default"],
        "spec": ["nodeName": "node-a", "restartPolicy": "Always"],
        "status": ["phase": "Running", "podIP": "10.0.0.5"],
    ]

    @Test func operators() throws {
        #expect(try FieldSelector(parsing: "metadata.name=web-1").matches(pod, resource: "pods"))
        #expect(try FieldSelector(parsing: "metadata.name==web-1").matches(pod, resource: "pods"))
        #expect(try !FieldSelector(parsing: "metadata.name!=web-1").matches(pod, resource: "pods"))
        #expect(try FieldSelector(parsing: "status.phase!=Pending,spec.nodeName=node-a").matches(pod, resource: "pods"))
        #expect(try !FieldSelector(parsing: "status.phase!=Pending,spec.nodeName=node-b").matches(pod, resource: "pods"))
    }

    @Test func missingFieldsAreEmpty() throws {
        let unscheduled: JSONValue = ["metadata": ["name": "x"], "spec": [:]]
        #expect(try FieldSelector(parsing: "spec.nodeName=").matches(unscheduled, resource: "pods"))
        #expect(try FieldSelector(parsing: "spec.nodeName!=").matches(pod, resource: "pods"))
        #expect(try FieldSelector(parsing: "spec.hostNetwork=false").matches(unscheduled, resource: "pods"))
    }

    @Test func closureForm() throws {
        let selector = try FieldSelector(parsing: "a=1,b!=2")
        #expect(selector.matches { ["a": "1", "b": "3"][$0] })
        #expect(!selector.matches { ["a": "1", "b": "2"][$0] })
    }

    @Test func escapesAndEverything() throws {
        let selector = try FieldSelector(parsing: "metadata.name=a\\,b\\=c")
        #expect(selector.requirements == [.init(field: "metadata.name", negated: false, value: "a,b=c")])
        #expect(selector.description == "metadata.name=a\\,b\\=c")
        #expect(try FieldSelector(parsing: "").isEverything)
        #expect(throws: SelectorError("invalid selector: 'nonsense'; can't understand 'nonsense'")) {
            try FieldSelector(parsing: "nonsense")
        }
    }

    @Test func perResourceAllowList() throws {
        #expect(throws: SelectorError("field label not supported: spec.foo")) {
            try FieldSelector(parsing: "spec.foo=x", resource: "pods")
        }
        #expect(throws: SelectorError("\"data.a\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")) {
            try FieldSelector(parsing: "data.a=1", resource: "configmaps")
        }
        _ = try FieldSelector(parsing: "metadata.namespace=default", resource: "configmaps")
        _ = try FieldSelector(parsing: "type=kubernetes.io/tls", resource: "secrets")
        _ = try FieldSelector(parsing: "involvedObject.name=web,reason=Started,source=kubelet", resource: "events")
        #expect(throws: SelectorError.self) { try FieldSelector(parsing: "type=x", resource: "configmaps") }
        #expect(FieldSelector.supportedFields(forResource: "pods").contains("status.podIP"))
    }

    @Test func legacySpecHostMeansNodeName() throws {
        let selector = try FieldSelector(parsing: "spec.host=node-a", resource: "pods")
        #expect(selector.requirements.first?.field == "spec.nodeName")
        #expect(selector.matches(pod, resource: "pods"))
    }

    @Test func eventSourceIsTheComponent() throws {
        let event: JSONValue = ["metadata": ["name": "e"], "source": ["component": "kubelet", "host": "n"], "type": "Normal"]
        #expect(try FieldSelector(parsing: "source=kubelet,type=Normal", resource: "events").matches(event, resource: "events"))
    }
}
