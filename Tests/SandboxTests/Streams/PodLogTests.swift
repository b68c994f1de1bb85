import Foundation
import KubeClient
import Testing
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite("Streams: pods/log from the runtime's CRI log")
struct PodLogTests {
    static let log = """
        2026-01-01T00:00:00.000000001Z stdout F line one
        2026-01-01T00:00:01.000000000Z stderr F line two
        2026-01-01T00:00:02.000000000Z stdout P part
        2026-01-01T00:00:02.500000000Z stdout F ial three

        """

    /// A pod `web` (containers app, side) whose `app` log is `log` and previous log says "before restart".
    static func setUp(_ cluster: TestCluster) async throws -> (FakePodRuntime, URL) {
        let runtime = FakePodRuntime()
        cluster.api.node.runtime = runtime
        try await cluster.runningPod("web", containers: ["app", "side"])
        let file = cluster.directory.appendingPathComponent("app.log")
        try log.write(to: file, atomically: true, encoding: .utf8)
        runtime.setLog(pod: "web", container: "app", file: file)
        let previous = cluster.directory.appendingPathComponent("app-previous.log")
        try "2025-12-31T00:00:00.000000000Z stdout F before restart\n".write(to: previous, atomically: true, encoding: .utf8)
        runtime.setLog(pod: "web", container: "app", previous: true, file: previous)
        return (runtime, file)
    }

    @Test("kubectl logs with -c, --tail, --since-time, --timestamps, --previous, --limit-bytes", .enabled(if: Kubectl.runnable("1.33")))
    func kubectlLogs() async throws {
        try await TestCluster.with { cluster in
            _ = try await Self.setUp(cluster)
            let kubectl = try cluster.kubectl("1.33")
            let all = try await kubectl.run(["logs", "web", "-c", "app"])
            #expect(all.stdout == "line one\nline two\npartial three\n", "\(all.output)")
            let tail = try await kubectl.run(["logs", "web", "-c", "app", "--tail=1"])
            #expect(tail.stdout == "partial three\n", "\(tail.output)")
            let since = try await kubectl.run(["logs", "web", "-c", "app", "--since-time=2026-01-01T00:00:01Z"])
            #expect(since.stdout == "line two\npartial three\n", "\(since.output)")
            let stamped = try await kubectl.run(["logs", "web", "-c", "app", "--timestamps", "--tail=1"])
            #expect(stamped.stdout == "2026-01-01T00:00:02.000000000Z partial three\n", "\(stamped.output)")
            let previous = try await kubectl.run(["logs", "web", "-c", "app", "--previous"])
            #expect(previous.stdout == "before restart\n", "\(previous.output)")
            let limited = try await kubectl.run(["logs", "web", "-c", "app", "--limit-bytes=6"])
            #expect(limited.stdout == "line o", "\(limited.output)")
            let noPrevious = try await kubectl.run(["logs", "web", "-c", "side", "--previous"])
            #expect(noPrevious.status != 0)
            #expect(noPrevious.stderr.contains("previous terminated container \"side\" in pod \"web\" not found"), "\(noPrevious.output)")
        }
    }

    @Test("kubectl logs --since keeps only recent lines", .enabled(if: Kubectl.runnable("1.33")))
    func since() async throws {
        try await TestCluster.with { cluster in
            let (_, file) = try await Self.setUp(cluster)
            let old = Timestamp.format(Date().addingTimeInterval(-7200)).replacingOccurrences(of: "Z", with: ".000000000Z")
            let recent = Timestamp.format(Date().addingTimeInterval(-5)).replacingOccurrences(of: "Z", with: ".000000000Z")
            try "\(old) stdout F old line\n\(recent) stdout F new line\n".write(to: file, atomically: true, encoding: .utf8)
            let result = try await cluster.kubectl("1.33").run(["logs", "web", "-c", "app", "--since=1h"])
            #expect(result.stdout == "new line\n", "\(result.output)")
        }
    }

    @Test("kubectl logs -f streams new lines and ends when the container ends", .enabled(if: Kubectl.runnable("1.33")))
    func follow() async throws {
        try await TestCluster.with { cluster in
            let (_, file) = try await Self.setUp(cluster)
            let kubectl = try cluster.kubectl("1.33")
            let following = Task { try await kubectl.run(["logs", "-f", "web", "-c", "app"], timeout: 30) }
            try await Task.sleep(for: .milliseconds(500))
            let handle = try FileHandle(forWritingTo: file)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("2026-01-01T00:00:03.000000000Z stdout F appended later\n".utf8))
            try handle.close()
            try await Task.sleep(for: .milliseconds(300))
            _ = try cluster.api.store.update(ResourceCatalog.pods, namespace: "default", name: "web") { current in
                var value = current.value
                var statuses = value["status"]?["containerStatuses"]?.arrayValue ?? []
                for index in statuses.indices where statuses[index]["name"]?.stringValue == "app" {
                    statuses[index]["state"] = ["terminated": ["exitCode": 0, "reason": "Completed"]]
                }
                value["status"]?["containerStatuses"] = .array(statuses)
                return value
            }
            let result = try await following.value
            #expect(result.status == 0, "\(result.output)")
            #expect(result.stdout == "line one\nline two\npartial three\nappended later\n", "\(result.output)")
        }
    }

    static let pythonScript = #"""
        import sys
        from kubernetes import client, config
        config.load_kube_config(sys.argv[1])
        v1 = client.CoreV1Api()
        try:
            v1.read_namespaced_pod_log("web", "default")
        except client.ApiException as e:
            print("status", e.status, e.body)
        print("default", repr(v1.read_namespaced_pod_log("solo", "default")))
        """#

    @Test("a multi-container pod without a container is Kubernetes' 400; the annotation or a single container is the default",
          .enabled(if: PythonClientTests.available || Kubectl.isCI))
    func containerDefaulting() async throws {
        try #require(PythonClientTests.available, "the Python kubernetes client is not importable; pip install kubernetes==33.1.0")
        try await TestCluster.with { cluster in
            let (runtime, file) = try await Self.setUp(cluster)
            try await cluster.runningPod("solo", containers: ["main"])
            runtime.setLog(pod: "solo", container: "main", file: file)
            let (status, output) = try await cluster.python(Self.pythonScript)
            #expect(status == 0, "\(output)")
            #expect(output.contains("status 400"), "\(output)")
            #expect(output.contains("a container name must be specified for pod web, choose one of: [app side]"), "\(output)")
            #expect(output.contains("default 'line one\\nline two\\npartial three\\n'"), "\(output)")
        }
    }

    @Test("CRI records: partial lines joined, malformed ones skipped, an unfinished record left for later")
    func criParsing() {
        var carry: CRILog.Line?
        let text = "2026-01-01T00:00:00Z stdout P a\n2026-01-01T00:00:01Z stdout F b\ngarbage\n2026-01-01T00:00:02Z stderr F \n2026-01-01T00:00:03Z std"
        let (lines, consumed) = CRILog.lines(Array(text.utf8), carry: &carry)
        #expect(lines.map { String(decoding: $0.text, as: UTF8.self) } == ["ab\n", "\n"])
        #expect(lines.first?.time == "2026-01-01T00:00:00Z")
        #expect(consumed == text.utf8.count - "2026-01-01T00:00:03Z std".utf8.count)
        #expect(CRILog.seconds("1970-01-01T00:00:01.5Z") == 1.5)
        #expect(CRILog.seconds("1970-01-01T01:00:00+01:00") == 0)
        #expect(CRILog.seconds("not a time") == nil)
    }
}
