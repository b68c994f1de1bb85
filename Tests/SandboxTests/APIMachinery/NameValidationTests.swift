import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite struct NameValidationTests {
    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

    @Test(arguments: ["web", "web-1", "a.b.c", "1abc", "x"])
    func validSubdomains(_ name: String) {
        #expect(NameValidation.isDNS1123Subdomain(name).isEmpty)
    }

    @Test(arguments: ["Web", "web_1", "-web", "web-", "a..b", ".a", "", "a b"])
    func invalidSubdomainsGetTheRealMessage(_ name: String) {
        #expect(NameValidation.isDNS1123Subdomain(name) == [Self.subdomainMessage])
    }

    @Test func subdomainLengthLimitIs253() {
        let ok = String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 63) + "."
            + String(repeating: "c", count: 63) + "." + String(repeating: "d", count: 61)
        #expect(ok.count == 253)
        #expect(NameValidation.isDNS1123Subdomain(ok).isEmpty)
        #expect(NameValidation.isDNS1123Subdomain(ok + "d") == ["must be no more than 253 characters"])
    }

    @Test func labelRejectsDotsWithItsOwnMessage() {
        #expect(NameValidation.isDNS1123Label("a.b") == ["must not contain dots"])
        #expect(NameValidation.isDNS1123Label("Abc") == [
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ])
        #expect(NameValidation.isDNS1123Label(String(repeating: "a", count: 64)) == ["must be no more than 63 characters"])
        #expect(NameValidation.isDNS1123Label(String(repeating: "a", count: 63)).isEmpty)
    }

    @Test func serviceNamesMustStartWithALetter() {
        #expect(NameValidation.isDNS1035Label("web").isEmpty)
        #expect(NameValidation.isDNS1035Label("1web") == [
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        ])
        #expect(!NameValidation.validateName("1web", resource: "services").isEmpty)
        #expect(NameValidation.validateName("1web", resource: "pods").isEmpty)
    }

    @Test func resourcesUseTheirOwnRule() {
        #expect(NameValidation.nameRule(forResource: "namespaces") == .dns1123Label)
        #expect(NameValidation.nameRule(forResource: "services") == .dns1035Label)
        #expect(NameValidation.nameRule(forResource: "deployments") == .dns1123Subdomain)
        #expect(NameValidation.nameRule(forResource: "clusterroles") == .pathSegment)
        #expect(NameValidation.validateName("a.b", resource: "namespaces") == ["must not contain dots"])
        #expect(NameValidation.validateName("system:controller:foo", resource: "clusterroles").isEmpty)
        #expect(NameValidation.validateName("a/b", resource: "roles") == ["may not contain '/'"])
        #expect(NameValidation.validateName("..", resource: "roles") == ["may not be '..'"])
    }

    @Test func generateNameMayEndInADash() {
        #expect(NameValidation.validateName("web-", resource: "pods", prefix: true).isEmpty)
        #expect(!NameValidation.validateName("web-", resource: "pods").isEmpty)
        #expect(!NameValidation.validateName("Web-", resource: "pods", prefix: true).isEmpty)
    }

    @Test func objectNameErrorsReadLikeTheServer() {
        let errors = NameValidation.validateObjectName(name: "Web", generateName: nil, resource: "deployments")
        #expect(errors.count == 1)
        #expect(errors[0].field == "metadata.name")
        #expect(errors[0].kind.rawValue == "FieldValueInvalid")
        #expect(errors[0].description == "metadata.name: Invalid value: \"Web\": " + Self.subdomainMessage)
        #expect(FieldError.invalidObjectMessage(qualifiedKind: "Deployment.apps", name: "Web", errors: errors)
            == "Deployment.apps \"Web\" is invalid: metadata.name: Invalid value: \"Web\": " + Self.subdomainMessage)

        let missing = NameValidation.validateObjectName(name: nil, generateName: "", resource: "pods")
        #expect(missing.map(\.description) == ["metadata.name: Required value: name or generateName is required"])
        #expect(NameValidation.validateObjectName(name: nil, generateName: "web-", resource: "pods").isEmpty)
    }

    @Test func labelKeys() {
        #expect(NameValidation.isQualifiedName("app").isEmpty)
        #expect(NameValidation.isQualifiedName("app.kubernetes.io/name").isEmpty)
        #expect(NameValidation.isQualifiedName("Under_score.x-Y").isEmpty)
        #expect(NameValidation.isQualifiedName("/name") == ["prefix part must be non-empty"])
        #expect(NameValidation.isQualifiedName("example.com/") == [
            "name part must be non-empty",
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ])
        #expect(NameValidation.isQualifiedName("Example.com/name").first?.hasPrefix("prefix part a lowercase RFC 1123 subdomain") == true)
        #expect(NameValidation.isQualifiedName("a/b/c").first?.hasPrefix("a qualified name must consist of") == true)
        #expect(NameValidation.isQualifiedName(String(repeating: "k", count: 64)) == ["name part must be no more than 63 characters"])
    }

    @Test func labelValues() {
        #expect(NameValidation.isValidLabelValue("").isEmpty)
        #expect(NameValidation.isValidLabelValue("v1.2_3-x").isEmpty)
        #expect(NameValidation.isValidLabelValue("-x") == [
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ])
        #expect(NameValidation.isValidLabelValue(String(repeating: "v", count: 64)) == ["must be no more than 63 characters"])
        let errors = NameValidation.validateLabels(["app": "web", "bad key": "x"])
        #expect(errors.count == 1)
        #expect(errors.first?.field == "metadata.labels")
        #expect(errors.first?.value == "bad key")
    }

    @Test func annotationsHaveQualifiedKeysAndASizeLimit() {
        #expect(NameValidation.validateAnnotations(["kubectl.kubernetes.io/last-applied-configuration": "{}"]).isEmpty)
        #expect(NameValidation.validateAnnotations(["a b": "x"]).count == 1)
        let huge = NameValidation.validateAnnotations(["big": String(repeating: "x", count: 256 * 1024)])
        #expect(huge.map(\.description) == ["metadata.annotations: Too long: must have at most 262144 bytes"])
    }

    @Test func quotingMatchesGo() {
        #expect(GoQuote.quote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"")
        #expect(GoQuote.quote("\u{1}") == "\"\\x01\"")
    }
}
