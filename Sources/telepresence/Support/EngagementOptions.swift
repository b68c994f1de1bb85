import ArgumentParser
import ClientSupport
import Foundation
import HTTPRouting

/// What the four engagement commands (`intercept`, `wiretap`, `replace`, `ingest`) share: where
/// the engaged container's environment goes (a file, JSON, a handler run after `--`), the
/// message printed once the handler runs, and how the result is printed.
struct HandlerOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Write the container's environment to this file (see --env-syntax).")
    var envFile: String?

    @Option(help: "The syntax of --env-file: \(EnvironmentSyntax.usage).")
    var envSyntax = "docker"

    @Option(name: [.customShort("j"), .long], help: "Write the container's environment to this file as a JSON object.")
    var envJson: String?

    @Option(help: "A message printed once the handler has started.")
    var waitMessage: String?

    @Flag(help: "With --output json|yaml: every field of the engagement, its environment included.")
    var detailedOutput = false

    @OptionGroup var output: OutputFlags

    @Argument(parsing: .postTerminator, help: "A handler to run with the container's environment; the engagement ends when it exits.")
    var command: [String] = []

    func validate() throws {
        guard EnvironmentSyntax(rawValue: envSyntax) != nil else {
            throw CLIError("--env-syntax \(envSyntax) is unknown; use \(EnvironmentSyntax.usage)")
        }
    }

    /// Asks the daemon for the engagement (connecting first when needed), writes the
    /// environment, prints the engagement, and runs the handler; its exit code is the CLI's.
    func engage(_ request: InterceptRequest, kube: KubeFlags) async throws {
        let syntax = EnvironmentSyntax(rawValue: envSyntax) ?? .docker
        _ = try await Connect.ensureConnected(kube: kube)
        let outcome = try await Daemon.started { try await $0.createIntercept(request) }
        guard let intercept = outcome.intercept, outcome.errorText.isEmpty else {
            throw CLIError(outcome.errorText.isEmpty ? "the \(request.kind.rawValue) of \(request.workload) failed for no reason given; see the daemon's log" : outcome.errorText)
        }
        let environment = intercept.handlerEnvironment
        do {
            if let envFile { try syntax.render(environment).write(toFile: envFile, atomically: true, encoding: .utf8) }
            if let envJson { try EnvironmentSyntax.json.render(environment).write(toFile: envJson, atomically: true, encoding: .utf8) }
        } catch {
            _ = try? await Daemon.ifRunning { try await $0.removeIntercept(name: intercept.name) }
            throw CLIError("the environment could not be written (\(error)); the \(request.kind.rawValue) was removed")
        }
        let view = InterceptView(intercept, path: outcome.path, detailed: detailedOutput)
        if output.output == .default {
            print(view.text, terminator: "")
        } else {
            try output.print(view) { TextTable(header: nil, rows: []) }
        }
        guard !command.isEmpty else { return }
        // What was printed comes before the handler's own output, also into a pipe or file
        // (fflush(nil) flushes every output stream).
        fflush(nil)
        let status = try await InterceptHandler(intercept: intercept, command: command, waitMessage: waitMessage).run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `--http-header`, `--http-path-equal`, `--http-path-prefix`, `--http-path-regex` of
/// `intercept` and `wiretap`: which HTTP requests the engagement takes (all must hold).
struct HTTPFilterOptions: ParsableArguments {
    @Option(name: .customLong("http-header"), help: "NAME=VALUE or 'NAME: VALUE': only requests with this header (repeatable; all must match).")
    var headers: [String] = []

    @Option(name: .customLong("http-path-equal"), help: "Only requests whose path is exactly this.")
    var pathEqual: String?

    @Option(name: .customLong("http-path-prefix"), help: "Only requests whose path starts with this.")
    var pathPrefix: String?

    @Option(name: .customLong("http-path-regex"), help: "Only requests whose whole path matches this regular expression.")
    var pathRegex: String?

    /// The filter, nil when no flag was given; a bad value is one sentence.
    func filter() throws -> HTTPFilter? {
        do {
            let filter = try HTTPFilter.parse(headers: headers, pathEqual: pathEqual, pathPrefix: pathPrefix, pathRegex: pathRegex)
            return filter.isEmpty ? nil : filter
        } catch {
            throw CLIError(error.description)
        }
    }

    func validate() throws { _ = try filter() }
}
