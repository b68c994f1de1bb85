import Foundation
import KubeClient
import SandboxAPIMachinery

/// Mutating admission webhooks for pods, as the API server runs them: every webhook of every
/// MutatingWebhookConfiguration (configurations by name, webhooks in order) whose rules,
/// namespaceSelector and objectSelector match is called with an AdmissionReview; its JSON patch
/// is applied; a denial or (with `failurePolicy: Fail`, the default) a failed call rejects the
/// request with Kubernetes' messages. A webhook with `reinvocationPolicy: IfNeeded` is called
/// once more when a later webhook changed the object. Each answer or failure becomes an Event in
/// the pod's namespace.
extension KubernetesAPI {
    /// One webhook of a configuration, with its settings defaulted as the API server defaults them.
    struct MutatingWebhook: Sendable {
        var name: String
        var spec: JSONValue
        var failClosed: Bool { spec["failurePolicy"]?.stringValue != "Ignore" }
        var timeout: Duration { .seconds(spec["timeoutSeconds"]?.intValue ?? 10) }
        var reinvokeIfNeeded: Bool { spec["reinvocationPolicy"]?.stringValue == "IfNeeded" }
        /// Whether calling it on a dry run is safe (sideEffects None or NoneOnDryRun).
        var dryRunSafe: Bool { ["None", "NoneOnDryRun"].contains(spec["sideEffects"]?.stringValue ?? "Unknown") }
    }

    /// The outcome of the webhooks for one request: the object to store and the events to record
    /// once its name is known.
    struct MutationResult: Sendable {
        var object: JSONValue
        var events: [EventNote]
    }

    static let webhookComponent = "sandbox-apiserver"

    func mutatingWebhooks() -> [MutatingWebhook] {
        store.list(ResourceCatalog.mutatingWebhookConfigurations, namespace: nil).items.map(\.object)
            .sorted { $0.name < $1.name }
            .flatMap { config in
                (config.value["webhooks"]?.arrayValue ?? []).map {
                    MutatingWebhook(name: $0["name"]?.stringValue ?? "", spec: $0)
                }
            }
    }

    /// Runs the matching webhooks on a pod being created (`operation` CREATE) or updated.
    func runMutatingWebhooks(
        _ object: JSONValue, operation: String, oldObject: JSONValue? = nil, namespace: String,
        username: String, groups: [String], dryRun: Bool
    ) async throws(APIError) -> MutationResult {
        let webhooks = mutatingWebhooks()
        if webhooks.isEmpty { return MutationResult(object: object, events: []) }
        let namespaceLabels = store.get(ResourceCatalog.namespaces, namespace: "", name: namespace)?
            .value["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        let matching = webhooks.filter {
            Self.webhookMatches($0.spec, operation: operation, namespaceLabels: namespaceLabels, object: object, oldObject: oldObject)
        }
        var result = MutationResult(object: object, events: [])
        // Index of the last webhook that changed the object, to know whom to call again.
        var lastChange = -1
        do throws(APIError) {
            for (index, webhook) in matching.enumerated() {
                if try await call(webhook, on: &result, operation: operation, oldObject: oldObject, namespace: namespace,
                                  username: username, groups: groups, dryRun: dryRun) {
                    lastChange = index
                }
            }
            for index in matching.indices where matching[index].reinvokeIfNeeded && index < lastChange {
                _ = try await call(matching[index], on: &result, operation: operation, oldObject: oldObject, namespace: namespace,
                                   username: username, groups: groups, dryRun: dryRun, reinvocation: true)
            }
        } catch {
            // The request fails: the events name the pod as the request did.
            let meta = result.object["metadata"]
            let name = meta?["name"]?.stringValue ?? meta?["generateName"]?.stringValue ?? ""
            if !dryRun { recordWebhookEvents(result.events, podName: name, namespace: namespace, uid: nil) }
            throw error
        }
        return result
    }

    /// Calls one webhook and applies its answer; true when it changed the object.
    private func call(
        _ webhook: MutatingWebhook, on result: inout MutationResult, operation: String, oldObject: JSONValue?,
        namespace: String, username: String, groups: [String], dryRun: Bool, reinvocation: Bool = false
    ) async throws(APIError) -> Bool {
        if dryRun && !webhook.dryRunSafe {
            throw APIError.badRequest("admission webhook \"\(webhook.name)\" does not support dry run")
        }
        let again = reinvocation ? " (reinvoked)" : ""
        let kind = GroupVersionKind(group: "", version: "v1", kind: "Pod")
        let name = result.object["metadata"]?["name"]?.stringValue ?? ""
        let review = AdmissionRequest(
            uid: UUID().uuidString.lowercased(), kind: kind, resource: GroupVersionResource(group: "", version: "v1", resource: "pods"),
            name: name.isEmpty ? nil : name, namespace: namespace, operation: operation == "CREATE" ? .create : .update,
            userInfo: .init(username: username, groups: groups), object: result.object, oldObject: oldObject, dryRun: dryRun,
            options: operation == "CREATE"
                ? ["kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"] : ["kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"])
        let response: AdmissionResponse
        var patched: JSONValue?
        var operations = 0
        do throws(WebhookCallError) {
            let endpoint = try webhookEndpoint(webhook)
            let answer = try await WebhookCaller.post(
                Array(AdmissionReview(request: review).encoded()), to: endpoint, dialer: node.dialer, timeout: webhook.timeout)
            let (decoded, patch) = try Self.read(answer, uid: review.uid)
            response = decoded
            if response.allowed == true, !patch.operations.isEmpty {
                operations = patch.operations.count
                do { patched = try patch.apply(to: result.object) } catch {
                    throw WebhookCallError(description: "the webhook's JSON patch does not apply: \(error)")
                }
            }
        } catch {
            let message = "failed calling webhook \"\(webhook.name)\": \(error.description)"
            if webhook.failClosed {
                result.events.append(EventNote(type: "Warning", reason: "AdmissionWebhookFailed", message: message))
                throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)",
                               details: ["causes": [["message": .string(message)]]])
            }
            result.events.append(EventNote(type: "Warning", reason: "AdmissionWebhookIgnored", message: "\(message) (ignored: failurePolicy is Ignore)"))
            return false
        }
        guard response.allowed == true else {
            let denial = Self.denial(webhook.name, response)
            result.events.append(EventNote(type: "Warning", reason: "AdmissionWebhookDenied", message: denial.message))
            throw denial
        }
        guard var patched else {
            result.events.append(EventNote(type: "Normal", reason: "AdmissionWebhookAllowed", message: "admission webhook \"\(webhook.name)\" allowed the request\(again)"))
            return false
        }
        // The patched object is decoded into the Pod type as the real server decodes it: a value
        // of the wrong type is its 500, fields a Pod lacks are dropped.
        patched = try Machinery.decodeAdmissionPatched(patched, kind: "Pod")
        let changed = patched != result.object
        result.object = patched
        result.events.append(EventNote(type: "Normal", reason: "AdmissionWebhookPatched", message: "admission webhook \"\(webhook.name)\" patched the pod with \(operations) operation\(operations == 1 ? "" : "s")\(again)"))
        return changed
    }

    func recordWebhookEvents(_ events: [EventNote], podName: String, namespace: String, uid: String?) {
        for note in events {
            recordEvent(note, kind: "Pod", name: podName, namespace: namespace, uid: uid, component: Self.webhookComponent)
        }
    }

    /// Creates a pod as the API does for clients and controllers: the mutating webhooks first,
    /// then validation, defaults and the store; the webhooks' events name the created pod.
    func createPod(_ object: JSONValue, username: String, groups: [String]) async throws(APIError) -> StoredObject {
        var object = object
        Machinery.applyDefaults(ResourceCatalog.pods, to: &object)
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? ""
        let mutation = try await runMutatingWebhooks(object, operation: "CREATE", namespace: namespace, username: username, groups: groups, dryRun: false)
        let stored = try createObject(ResourceCatalog.pods, mutation.object)
        recordWebhookEvents(mutation.events, podName: stored.name, namespace: namespace, uid: stored.value["metadata"]?["uid"]?.stringValue)
        return stored
    }

    /// A webhook's answer and its patch, checked as the API server checks them.
    private static func read(_ answer: [UInt8], uid: String) throws(WebhookCallError) -> (AdmissionResponse, JSONPatch) {
        do {
            let response = try AdmissionReview.decodeResponse(answer, uid: uid)
            return (response, try response.jsonPatch())
        } catch {
            throw WebhookCallError(description: error.description)
        }
    }

    /// The 4xx a denial becomes (`admission webhook "NAME" denied the request: MESSAGE`).
    static func denial(_ name: String, _ response: AdmissionResponse) -> APIError {
        let deniedBy = "admission webhook \"\(name)\" denied the request"
        let reason = response.status?.reason ?? ""
        let message: String
        if let text = response.status?.message, !text.isEmpty {
            message = "\(deniedBy): \(text)"
        } else if !reason.isEmpty {
            message = "\(deniedBy): \(reason)"
        } else {
            message = "\(deniedBy) without explanation"
        }
        let code = max(response.status?.code ?? 400, 400)
        return APIError(code: code, reason: reason, message: message)
    }

    /// Whether a webhook applies to a pod request: rules, namespaceSelector, objectSelector.
    static func webhookMatches(_ spec: JSONValue, operation: String, namespaceLabels: [String: String], object: JSONValue, oldObject: JSONValue?) -> Bool {
        func has(_ list: JSONValue?, _ value: String) -> Bool {
            let values = list?.arrayValue?.compactMap(\.stringValue) ?? []
            return values.contains("*") || values.contains(value)
        }
        let ruleMatches = (spec["rules"]?.arrayValue ?? []).contains { rule in
            let scope = rule["scope"]?.stringValue ?? "*"
            return has(rule["operations"], operation) && has(rule["apiGroups"], "") && has(rule["apiVersions"], "v1")
                && (has(rule["resources"], "pods") || has(rule["resources"], "*/*"))
                && (scope == "*" || scope == "Namespaced")
        }
        guard ruleMatches else { return false }
        func selects(_ selector: JSONValue?, _ labels: [String: String]) -> Bool {
            guard let selector, selector.objectValue?.isEmpty == false else { return true }
            guard let parsed = try? LabelSelector(json: selector) else { return false }
            return parsed.matches(labels)
        }
        guard selects(spec["namespaceSelector"], namespaceLabels) else { return false }
        func labels(_ object: JSONValue?) -> [String: String] {
            object?["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        }
        return selects(spec["objectSelector"], labels(object)) || (oldObject != nil && selects(spec["objectSelector"], labels(oldObject)))
    }

    /// Where to send a webhook's review: its `url`, or a ready endpoint of its `service`.
    func webhookEndpoint(_ webhook: MutatingWebhook) throws(WebhookCallError) -> WebhookEndpoint {
        let config = webhook.spec["clientConfig"]
        let timeoutQuery = "timeout=\(webhook.spec["timeoutSeconds"]?.intValue ?? 10)s"
        let caBundle = config?["caBundle"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        if let url = config?["url"]?.stringValue {
            guard let components = URLComponents(string: url), components.scheme == "https", let host = components.host, !host.isEmpty else {
                throw WebhookCallError(description: "the webhook URL \"\(url)\" is not an https URL")
            }
            let port = components.port ?? 443
            var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            path += "?" + ([components.percentEncodedQuery, timeoutQuery].compactMap { $0 }.joined(separator: "&"))
            let literal = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            let isIP = literal.contains(":") || literal.split(separator: ".").count == 4 && literal.allSatisfy { $0.isNumber || $0 == "." }
            return WebhookEndpoint(
                host: isIP ? literal : try resolve(host), port: port, path: path, serverName: isIP ? nil : host,
                caBundle: caBundle, displayURL: "https://\(host):\(port)\(path)")
        }
        guard let service = config?["service"] else {
            throw WebhookCallError(description: "the webhook has neither clientConfig.url nor clientConfig.service")
        }
        let name = service["name"]?.stringValue ?? "", namespace = service["namespace"]?.stringValue ?? ""
        let port = service["port"]?.intValue ?? 443
        let path = (service["path"]?.stringValue ?? "/") + "?" + timeoutQuery
        let serverName = "\(name).\(namespace).svc"
        let display = "https://\(serverName):\(port)\(path)"
        guard let svc = store.get(ResourceCatalog.services, namespace: namespace, name: name)?.value else {
            throw WebhookCallError(description: "failed to call webhook: Post \"\(display)\": service \"\(name)\" not found")
        }
        let servicePort = svc["spec"]?["ports"]?.arrayValue?.first { $0["port"]?.intValue == port }
        guard let servicePort else {
            throw WebhookCallError(description: "failed to call webhook: Post \"\(display)\": service \(namespace)/\(name) has no port \(port)")
        }
        let portName = servicePort["name"]?.stringValue ?? ""
        let subsets = store.get(ResourceCatalog.endpoints, namespace: namespace, name: name)?.value["subsets"]?.arrayValue ?? []
        var candidates: [(String, Int)] = []
        for subset in subsets {
            let ports = subset["ports"]?.arrayValue ?? []
            guard let target = (ports.first { ($0["name"]?.stringValue ?? "") == portName } ?? (ports.count == 1 ? ports[0] : nil))?["port"]?.intValue else { continue }
            for address in subset["addresses"]?.arrayValue ?? [] {
                if let ip = address["ip"]?.stringValue { candidates.append((ip, target)) }
            }
        }
        guard let chosen = candidates.randomElement() else {
            throw WebhookCallError(description: "failed to call webhook: Post \"\(display)\": no endpoints available for service \"\(name)\"")
        }
        return WebhookEndpoint(host: chosen.0, port: chosen.1, path: path, serverName: serverName, caBundle: caBundle, displayURL: display)
    }

    /// A webhook URL's host name: a service name of the cluster, or localhost.
    private func resolve(_ host: String) throws(WebhookCallError) -> String {
        if host == "localhost" { return "127.0.0.1" }
        let parts = host.split(separator: ".")
        if parts.count >= 3, parts[2] == "svc",
           let ip = store.get(ResourceCatalog.services, namespace: String(parts[1]), name: String(parts[0]))?.value["spec"]?["clusterIP"]?.stringValue {
            return ip
        }
        throw WebhookCallError(description: "dial tcp: lookup \(host): no such host")
    }
}
