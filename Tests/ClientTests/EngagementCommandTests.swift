import ArgumentParser
import ClientSupport
import HTTPRouting
import RPC
import Testing
@testable import telepresence

/// The four engagement commands, `leave` and `list` as their flags parse: what each asks the
/// daemon for, and the one sentence a bad value gets.
@Suite struct EngagementCommandTests {
    /// The sentence the CLI prints for a refused command line.
    func refusal<C: ParsableCommand>(_ command: C.Type, _ arguments: [String]) -> String? {
        do {
            _ = try command.parse(arguments)
            return nil
        } catch {
            return command.message(for: error)
        }
    }

    @Test func interceptTakesHTTPFiltersInBothHeaderForms() throws {
        let command = try InterceptCommand.parse([
            "echo", "-p", "8081:http", "--http-header", "X-User=alice", "--http-header", "X-Env: dev",
            "--http-path-prefix", "/api", "-n", "team-b", "--to-pod", "9090", "--", "python3", "app.py",
        ])
        let request = try command.request()
        #expect(request.kind == .intercept)
        #expect(request.filter == HTTPFilter(headers: [.init(name: "X-User", value: "alice"), .init(name: "X-Env", value: "dev")], pathPrefix: "/api"))
        #expect(request.namespace == "team-b" && request.targetPort == 8081 && request.portIdentifier == "http")
        #expect(request.toPod == ["9090/TCP"])
        #expect(command.handler.command == ["python3", "app.py"])
        #expect(request.spec.mechanism == "http" && request.spec.kind == "intercept")
        // No flag, no filter.
        #expect(try InterceptCommand.parse(["echo"]).request().filter == nil)
    }

    @Test func badFiltersAreOneSentence() {
        #expect(refusal(InterceptCommand.self, ["echo", "--http-header", "no-separator"])
            == "--http-header no-separator is not a header: give NAME=VALUE or 'NAME: VALUE'")
        #expect(refusal(WiretapCommand.self, ["echo", "--http-path-equal", "api"]) == "the HTTP path api must start with /")
        #expect(refusal(InterceptCommand.self, ["echo", "--http-path-regex", "(["])?.hasPrefix("--http-path-regex ([ is not a regular expression") == true)
        #expect(refusal(InterceptCommand.self, ["echo", "--http-path-equal", "/a", "--http-path-prefix", "/b"])
            == "the HTTP filter can never match: path /a does not start with /b")
    }

    @Test func wiretapHasInterceptsFlagsButToPod() throws {
        let request = try WiretapCommand.parse(["echo", "-p", "9000", "--http-path-equal", "/health", "-w", "web", "--address", "localhost"]).request()
        #expect(request.kind == .wiretap && request.workload == "web" && request.targetPort == 9000 && request.targetHost == "127.0.0.1")
        #expect(request.filter?.pathEqual == "/health")
        #expect(refusal(WiretapCommand.self, ["echo", "--to-pod", "9090"])?.contains("--to-pod") == true)
    }

    @Test func replaceTakesRepeatablePortsAndAContainer() throws {
        let command = try ReplaceCommand.parse(["echo", "-c", "app", "-p", "3000:http", "--port", "3001:9000/udp", "-n", "ns2", "--env-file", "/tmp/e", "--", "sh"])
        let request = command.request()
        #expect(request.kind == .replace && request.name == "echo" && request.workload == "echo")
        #expect(request.containerName == "app" && request.namespace == "ns2")
        #expect(request.portIdentifier == "3000:http,3001:9000/udp")
        #expect(command.handler.envFile == "/tmp/e" && command.handler.command == ["sh"])
        #expect(try ReplaceCommand.parse(["echo"]).request().portIdentifier == "")
        #expect(refusal(ReplaceCommand.self, ["echo", "-p", "http"]) == "--port http: write LOCAL:CONTAINERPORT with a local port from 1 to 65535, as in --port 8080:http")
        #expect(refusal(ReplaceCommand.self, ["echo", "-p", "3000:http/sctp"])?.hasPrefix("--port 3000:http/sctp: the container port must be") == true)
    }

    @Test func ingestTakesAContainerAndMovesNoTraffic() throws {
        let command = try IngestCommand.parse(["echo", "-c", "app", "-n", "ns2", "-j", "/tmp/env.json", "--", "env"])
        let request = command.request()
        #expect(request.kind == .ingest && request.containerName == "app" && request.namespace == "ns2" && request.targetPort == 0)
        #expect(command.handler.envJson == "/tmp/env.json" && command.handler.command == ["env"])
        #expect(refusal(IngestCommand.self, ["echo", "--http-header", "a=b"]) != nil)
        #expect(refusal(IngestCommand.self, ["echo", "--env-syntax", "fish"]) == "--env-syntax fish is unknown; use \(EnvironmentSyntax.usage)")
    }

    @Test func leaveTakesAContainer() throws {
        let leave = try Leave.parse(["echo", "-c", "app"])
        #expect(leave.name == "echo" && leave.container == "app")
    }

    @Test func listFlagsAreTelepresencesBitmap() throws {
        #expect(try List.parse([]).filter == [])
        #expect(try List.parse(["-i"]).filter.rawValue == 1)
        #expect(try List.parse(["-r", "-g"]).filter.rawValue == 6)
        #expect(try List.parse(["-t", "-a", "-n", "ns2"]).filter.rawValue == 24)
        #expect(try List.parse(["--output", "json", "--detailed-output"]).detailedOutput)
    }

    @Test func theListFilterSelectsByKindOrAgent() {
        func workload(_ kinds: [EngagementKind], agent: Workload.AgentState = .installed) -> Workload {
            Workload(name: "w", namespace: "n", kind: "Deployment", agent: agent,
                     intercepts: kinds.map { Intercept(name: $0.rawValue, kind: $0, workload: "w") })
        }
        #expect(ListFilter.intercepts.selects(workload([.intercept])))
        #expect(!ListFilter.intercepts.selects(workload([.wiretap])))
        #expect(ListFilter.wiretaps.selects(workload([.wiretap, .ingest])))
        #expect(ListFilter([.replacements, .ingests]).selects(workload([.ingest])))
        #expect(!ListFilter.replacements.selects(workload([])))
        #expect(ListFilter.installedAgents.selects(workload([])))
        #expect(!ListFilter.installedAgents.selects(workload([], agent: .none)))
        #expect(ListFilter().selects(workload([], agent: .none)))
    }
}
