import Foundation
import KubeClient

/// `pods/log`: the container's CRI log from the node's runtime, served as plain text with the
/// kubelet's options (`container`, `follow`, `previous`, `tailLines`, `sinceSeconds`,
/// `sinceTime`, `timestamps`, `limitBytes`).
extension KubernetesAPI {
    /// The options of one log request, checked as the API server checks them.
    struct LogOptions {
        var container: String
        var follow: Bool
        var previous: Bool
        var tailLines: Int?
        /// Only lines at or after this time (seconds since 1970).
        var since: Double?
        var timestamps: Bool
        var limitBytes: Int?

        init(_ request: APIRequest, pod: JSONValue) throws(APIError) {
            container = try ContainerChoice.resolve(pod: pod, requested: request.query["container"], firstWhenMany: false)
            follow = try request.flag("follow")
            previous = try request.flag("previous")
            timestamps = try request.flag("timestamps")
            func integer(_ name: String, minimum: Int, rule: String) throws(APIError) -> Int? {
                guard let text = request.query[name], !text.isEmpty else { return nil }
                guard let value = Int(text) else { throw APIError.badRequest("invalid value \"\(text)\" for query parameter \(name): not an integer") }
                guard value >= minimum else { throw APIError.badRequest("\(name): Invalid value: \(value): \(rule)") }
                return value
            }
            tailLines = try integer("tailLines", minimum: 0, rule: "must be greater than or equal to 0")
            limitBytes = try integer("limitBytes", minimum: 1, rule: "must be greater than 0")
            let sinceSeconds = try integer("sinceSeconds", minimum: 1, rule: "must be greater than 0")
            let sinceTime = request.query["sinceTime"].flatMap { $0.isEmpty ? nil : $0 }
            if sinceSeconds != nil, sinceTime != nil {
                throw APIError.badRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
            }
            if let sinceSeconds { since = Date().timeIntervalSince1970 - Double(sinceSeconds) }
            if let sinceTime {
                guard let seconds = CRILog.seconds(sinceTime) else {
                    throw APIError.badRequest("invalid value \"\(sinceTime)\" for query parameter sinceTime: not an RFC 3339 time")
                }
                since = seconds
            }
        }

        /// The bytes a line becomes (nil when `since` leaves it out).
        func render(_ line: CRILog.Line) -> [UInt8]? {
            if let since, let seconds = line.seconds, seconds < since { return nil }
            return timestamps ? Array(line.time.utf8) + [UInt8(ascii: " ")] + line.text : line.text
        }
    }

    func podLog(_ request: APIRequest, pod stored: StoredObject) throws(APIError) -> APIResponse {
        let pod = stored.value
        let options = try LogOptions(request, pod: pod)
        let namespace = stored.namespace, name = stored.name
        let file: URL?
        do {
            file = try node.runtime.logFile(namespace: namespace, pod: name, container: options.container, previous: options.previous)
        } catch let error as PodRuntimeError {
            throw APIError.badRequest(error.description)
        } catch {
            throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(error)")
        }
        guard let file else {
            if options.previous {
                throw APIError.badRequest("previous terminated container \"\(options.container)\" in pod \"\(name)\" not found")
            }
            if let waiting = ContainerChoice.status(pod, container: options.container)?["state"]?["waiting"] {
                let reason = waiting["reason"]?.stringValue ?? "ContainerCreating"
                throw APIError.badRequest("container \"\(options.container)\" in pod \"\(name)\" is waiting to start: \(reason)")
            }
            return .text("")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else { return .text("") }
        var carry: CRILog.Line?
        let (lines, consumed) = CRILog.lines(data, carry: &carry)
        var rendered = lines.compactMap(options.render)
        if let tail = options.tailLines, rendered.count > tail { rendered.removeFirst(rendered.count - tail) }
        var initial = rendered.flatMap { $0 }
        if let limit = options.limitBytes, initial.count > limit { initial.removeLast(initial.count - limit) }
        guard options.follow, !options.previous, initial.count < (options.limitBytes ?? .max) else {
            return .full(status: 200, contentType: "text/plain", body: initial)
        }
        let follower = LogFollower(
            api: self, namespace: namespace, pod: name, uid: stored.value["metadata"]?["uid"]?.stringValue ?? "",
            options: options, file: file, offset: consumed, carry: carry, sent: initial.count,
            restarts: ContainerChoice.status(pod, container: options.container)?["restartCount"]?.intValue ?? 0)
        let first = initial
        return .stream(contentType: "text/plain") { write in
            if !first.isEmpty { guard (try? await write(first)) != nil else { return } }
            await follower.run(write)
        }
    }
}

/// Streams the lines a container writes after a `follow` request began, until the container
/// ends (or restarts), the pod goes, or the client leaves. The log file is polled: the CRI
/// format is append-only, and a tenth of a second is well within what `kubectl logs -f` shows.
struct LogFollower: Sendable {
    static let pollInterval: Duration = .milliseconds(100)

    let api: KubernetesAPI
    let namespace: String
    let pod: String
    let uid: String
    let options: KubernetesAPI.LogOptions
    let file: URL
    var offset: Int
    var carry: CRILog.Line?
    var sent: Int
    let restarts: Int

    func run(_ write: StreamWriter) async {
        var state = self
        while !Task.isCancelled {
            let ended = state.containerEnded()
            // Read after the check, so lines written just before the end are still sent.
            guard let chunk = state.readNew() else { return }
            if !chunk.isEmpty { guard (try? await write(chunk)) != nil else { return } }
            if let limit = options.limitBytes, state.sent >= limit { return }
            if ended { return }
            try? await Task.sleep(for: Self.pollInterval)
        }
    }

    /// The rendered bytes of the complete lines appended since the last read (nil: the file is gone).
    private mutating func readNew() -> [UInt8]? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return nil }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let data = try? handle.readToEnd(), !data.isEmpty else { return [] }
        let (lines, consumed) = CRILog.lines(data, carry: &carry)
        offset += consumed
        var bytes = lines.compactMap(options.render).flatMap { $0 }
        if let limit = options.limitBytes, sent + bytes.count > limit { bytes.removeLast(sent + bytes.count - limit) }
        sent += bytes.count
        return bytes
    }

    /// Whether the container instance being followed is over.
    private func containerEnded() -> Bool {
        guard let current = api.store.get(ResourceCatalog.pods, namespace: namespace, name: pod)?.value,
              current["metadata"]?["uid"]?.stringValue ?? "" == uid else { return true }
        let phase = current["status"]?["phase"]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return true }
        guard let status = ContainerChoice.status(current, container: options.container) else { return false }
        if status["state"]?["terminated"] != nil { return true }
        return (status["restartCount"]?.intValue ?? 0) != restarts
    }
}
