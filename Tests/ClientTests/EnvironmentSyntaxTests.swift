import ClientSupport
import Foundation
import Testing
import TestSupport

/// `--env-file` in every syntax, each read back by its real consumer where one runs here: bash
/// (`source`) for sh, tcsh for csh, python-dotenv for docker and compose, Python's json for json.
/// A value must come back byte for byte.
@Suite struct EnvironmentSyntaxTests {
    /// Values that trip naive writers: quotes of both kinds, `$`, backquotes, `!`, backslashes,
    /// spaces, `=`, tabs, unicode, the empty string.
    static let tricky: [String: String] = [
        "PLAIN": "abc", "SPACE": "a b", "QUOTES": #"it's "x""#, "DOLLAR": "$HOME `cmd` $(x)", "BANG": "hi!",
        "BACKSLASH": #"a\b\n"#, "EQUALS": "a=b", "EMPTY": "", "UNICODE": "héllo ✓", "TAB": "a\tb", "HASH": "x # not a comment",
    ]
    static let multiline: [String: String] = ["MULTI": "line1\nline2\n", "MULTI_QUOTE": "it's\nthere"]

    static let python = ProcessInfo.processInfo.environment["SANDBOX_PYTHON"] ?? "python3"
    static let dump = "import os, json, sys; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"

    func file(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("env-\(UUID().uuidString)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func decode(_ output: ProcessRunner.Output) throws -> [String: String] {
        #expect(output.status == 0, "\(output.combined)")
        return try JSONDecoder().decode([String: String].self, from: Data(output.stdout.utf8))
    }

    @Test func shIsReadBackByBash() async throws {
        let all = Self.tricky.merging(Self.multiline) { $1 }
        for syntax in [EnvironmentSyntax.sh, .shExport] {
            let path = try file(try syntax.render(all))
            defer { try? FileManager.default.removeItem(at: path) }
            // sh assigns shell variables (set -a exports them); sh:export exports by itself.
            let output = try await ProcessRunner.run(
                ["bash", "-c", "set -a; source \"$0\"; exec \(Self.python) -c '\(Self.dump)' \(all.keys.sorted().joined(separator: " "))", path.path])
            #expect(try decode(output) == all, "\(syntax)")
        }
    }

    @Test(.enabled(where: .executable("tcsh", from: "the Debian package tcsh")))
    func cshIsReadBackByTcsh() async throws {
        try HostRequirement.executable("tcsh", from: "the Debian package tcsh").require()
        let all = Self.tricky.merging(Self.multiline) { $1 }
        let path = try file(try EnvironmentSyntax.cshExport.render(all))
        defer { try? FileManager.default.removeItem(at: path) }
        let output = try await ProcessRunner.run(["tcsh", "-f", "-c", "source \(path.path); \(Self.python) -c '\(Self.dump)' \(all.keys.sorted().joined(separator: " "))"])
        #expect(try decode(output) == all)
        // Plain csh sets shell variables: each one exported by hand reads back the same.
        let plain = try file(try EnvironmentSyntax.csh.render(Self.tricky) + Self.tricky.keys.sorted().map { "setenv \($0) \"$\($0):q\"\n" }.joined())
        defer { try? FileManager.default.removeItem(at: plain) }
        let shell = try await ProcessRunner.run(["tcsh", "-f", "-c", "source \(plain.path); \(Self.python) -c '\(Self.dump)' \(Self.tricky.keys.sorted().joined(separator: " "))"])
        #expect(try decode(shell) == Self.tricky)
    }

    /// Docker's env-file reader takes each line's value as it is (no quotes, no comments, no
    /// interpolation); python-dotenv agrees with it except on a ` #` (a comment to dotenv), so
    /// docker is judged by dotenv on the rest and by its exact lines for that one.
    @Test func dockerAndComposeAreReadBackByPythonDotenv() async throws {
        var dockerValues = Self.tricky
        dockerValues["HASH"] = nil
        #expect(try EnvironmentSyntax.docker.line("HASH", "x # y") == "HASH=x # y")
        for (syntax, values, interpolate) in [(EnvironmentSyntax.docker, dockerValues, "False"), (.compose, Self.tricky.merging(Self.multiline) { $1 }, "True")] {
            let text = try syntax.render(values)
            let path = try file(text)
            defer { try? FileManager.default.removeItem(at: path) }
            let script = "import json, sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1], interpolate=\(interpolate))))"
            let output = try await ProcessRunner.run([Self.python, "-c", script, path.path])
            #expect(try decode(output) == values, "\(syntax): \(text)")
        }
    }

    @Test func jsonIsReadBackByPython() async throws {
        let all = Self.tricky.merging(Self.multiline) { $1 }.merging(["CONTROL": "\u{1}\u{1f}"]) { $1 }
        let path = try file(try EnvironmentSyntax.json.render(all))
        defer { try? FileManager.default.removeItem(at: path) }
        let output = try await ProcessRunner.run([Self.python, "-c", "import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))", path.path])
        #expect(try decode(output) == all)
    }

    @Test func powerShellAndCmdLinesAreTelepresences() throws {
        #expect(try EnvironmentSyntax.ps.line("A", "it's") == "$Env:A='it''s'")
        #expect(try EnvironmentSyntax.psExport.line("A", "b") == "[Environment]::SetEnvironmentVariable('A', 'b', 'User')")
        #expect(try EnvironmentSyntax.cmd.line("A", "b c") == "set A=b c")
        #expect(try EnvironmentSyntax.sh.line("A", "plain") == "A=plain")
        #expect(try EnvironmentSyntax.shExport.line("A", "a b") == "export A='a b'")
    }

    @Test func aMultilineValueIsRefusedWhereItCannotBeWritten() {
        for syntax in [EnvironmentSyntax.docker, .cmd] {
            #expect(throws: EnvironmentSyntaxError.multiline(syntax: syntax, key: "MULTI")) { try syntax.render(Self.multiline) }
        }
        #expect(EnvironmentSyntaxError.multiline(syntax: .docker, key: "K").description.contains("--env-syntax compose"))
        #expect(EnvironmentSyntax(rawValue: "sh:export") == .shExport && EnvironmentSyntax(rawValue: "fish") == nil)
    }
}
