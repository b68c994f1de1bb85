import Foundation
import KubeClient
import Testing
import TestSupport

/// The AdmissionReview codec both ends of a webhook use. Bodies are network input: every body
/// decodes or fails with a typed error that says what was wrong, and nothing crashes.
@Suite struct AdmissionReviewTests {
    static let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    static let pod = GroupVersionKind(group: "", version: "v1", kind: "Pod")
    static let pods = GroupVersionResource(group: "", version: "v1", resource: "pods")
    static let validAnswer = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2xhYmVscy94IiwidmFsdWUiOiJ5In1d"}}"#

    static func request() -> AdmissionRequest {
        AdmissionRequest(
            uid: uid, kind: pod, resource: pods, namespace: "default", operation: .create,
            userInfo: .init(username: "system:serviceaccount:kube-system:replicaset-controller", groups: ["system:serviceaccounts"]),
            object: ["metadata": ["generateName": "web-", "labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "web:1"]]]],
            dryRun: false)
    }

    @Test func aRequestRoundTripsAsAWebhookReadsIt() throws {
        let body = AdmissionReview(request: Self.request()).encoded()
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#""apiVersion":"admission.k8s.io/v1""#) && text.contains(#""operation":"CREATE""#))
        let decoded = try AdmissionReview.decodeRequest(Array(body))
        #expect(decoded == Self.request())
        #expect(decoded.object?["metadata"]?["labels"]?["app"]?.stringValue == "web")
    }

    @Test func anAnswerWithAPatchRoundTripsAsAnAPIServerReadsIt() throws {
        let patch = JSONPatch([.add(path: try JSONPointer("/metadata/labels/x"), value: "y")])
        let body = AdmissionReview(response: .allowing(uid: Self.uid, patch: patch)).encoded()
        let response = try AdmissionReview.decodeResponse(Array(body), uid: Self.uid)
        #expect(response.allowed == true && response.patchType == "JSONPatch")
        let patched = try response.jsonPatch().apply(to: ["metadata": ["labels": [:]]])
        #expect(patched["metadata"]?["labels"]?["x"]?.stringValue == "y")
        // The fixed bytes a real webhook sends parse the same way.
        #expect(try AdmissionReview.decodeResponse(Array(Self.validAnswer.utf8), uid: Self.uid).jsonPatch() == patch)
    }

    @Test func aDenialCarriesItsMessage() throws {
        let body = AdmissionReview(response: .denying(uid: Self.uid, message: "no agents in kube-system")).encoded()
        let response = try AdmissionReview.decodeResponse(Array(body), uid: Self.uid)
        #expect(response.allowed == false)
        #expect(response.status?.message == "no agents in kube-system" && response.status?.code == 403)
    }

    @Test func knownBadBodiesGetTheirOwnError() {
        func answer(_ text: String, uid: String = AdmissionReviewTests.uid) -> AdmissionReviewError? {
            do { _ = try AdmissionReview.decodeResponse(Array(text.utf8), uid: uid); return nil } catch { return error }
        }
        func request(_ text: String) -> AdmissionReviewError? {
            do { _ = try AdmissionReview.decodeRequest(Array(text.utf8)); return nil } catch { return error }
        }
        #expect(answer(#"{"apiVersion":"v1","kind":"Status"}"#) == .wrongKind(apiVersion: "v1", kind: "Status"))
        #expect(answer(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#) == .missingResponse)
        #expect(answer(Self.validAnswer, uid: "other") == .uidMismatch(expected: "other", got: Self.uid))
        #expect(answer(Self.validAnswer.replacingOccurrences(of: "JSONPatch", with: "MergePatch")) == .patchType("MergePatch"))
        #expect(answer(Self.validAnswer.replacingOccurrences(of: "W3sib3", with: "!!!!")) == .patchNotBase64)
        #expect(answer(Self.validAnswer.replacingOccurrences(of: #""allowed":true,"#, with: "")) == .missingAllowed)
        if case .notJSON = answer("") {} else { Issue.record("an empty body is not JSON") }
        #expect(request(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#) == .missingRequest)
        let noOperation = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"userInfo":{}}}"#
        if case .malformed(let why) = request(noOperation) {
            #expect(why.contains("operation"), "\(why)")
        } else {
            Issue.record("a request without an operation is malformed")
        }
    }

    /// Truncations, byte flips and random bytes of valid bodies (both directions): each decodes or
    /// fails with a typed error; none crashes.
    @Test func mutatedBodiesNeverCrash() {
        var random = SeededGenerator(seed: 0xAD_1155)
        let bodies = [Array(Self.validAnswer.utf8), Array(AdmissionReview(request: Self.request()).encoded())]
        var rejected = 0
        for round in 0..<4000 {
            let valid = bodies[round % 2]
            var input: [UInt8]
            switch round % 3 {
            case 0: input = Array(valid.prefix(Int.random(in: 0...valid.count, using: &random)))
            case 1:
                input = valid
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    input[Int.random(in: 0..<input.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            default: input = (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            do {
                if round % 2 == 0 {
                    _ = try AdmissionReview.decodeResponse(input, uid: Self.uid).jsonPatch()
                } else {
                    _ = try AdmissionReview.decodeRequest(input)
                }
            } catch {
                #expect(!error.description.isEmpty)
                rejected += 1
            }
        }
        #expect(rejected > 2000, "most mutations must be refused, not silently accepted")
    }
}
