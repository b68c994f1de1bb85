/// How `--env-file` writes an engaged container's environment, in Telepresence's syntaxes
/// (`--env-syntax`): each form is what its consumer reads back verbatim (bash's `source` for
/// `sh`, tcsh for `csh`, docker's and compose's env-file readers, PowerShell, cmd), or a clear
/// error for a value it cannot carry (a multi-line value for docker and cmd).
public enum EnvironmentSyntax: String, Sendable, CaseIterable, CustomStringConvertible {
    case docker
    case compose
    case sh
    case shExport = "sh:export"
    case csh
    case cshExport = "csh:export"
    case ps
    case psExport = "ps:export"
    case cmd
    case json

    public var description: String { rawValue }

    /// The names as a user types them, for help and errors.
    public static let usage = "docker, compose, sh, csh, cmd, ps or json; sh, csh and ps can take \":export\""

    /// The whole file: one line per variable, sorted by name (JSON: one object).
    public func render(_ environment: [String: String]) throws(EnvironmentSyntaxError) -> String {
        if self == .json { return Self.json(environment) }
        var lines: [String] = []
        for key in environment.keys.sorted() {
            lines.append(try line(key, environment[key] ?? ""))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// One variable as this syntax writes it.
    public func line(_ key: String, _ value: String) throws(EnvironmentSyntaxError) -> String {
        switch self {
        case .docker:
            // docker's env-file reader takes the rest of the line as it is: no quotes, no newline.
            guard !value.contains("\n") else { throw .multiline(syntax: self, key: key) }
            return "\(key)=\(value)"
        case .compose:
            return "\(key)=\(Self.composeQuoted(value))"
        case .sh:
            return "\(key)=\(Self.shellQuoted(value))"
        case .shExport:
            return "export \(key)=\(Self.shellQuoted(value))"
        case .csh:
            return "set \(key)=\(Self.cshQuoted(value))"
        case .cshExport:
            return "setenv \(key) \(Self.cshQuoted(value))"
        case .ps:
            return "$Env:\(key)=\(Self.powerShellQuoted(value))"
        case .psExport:
            return "[Environment]::SetEnvironmentVariable(\(Self.powerShellQuoted(key)), \(Self.powerShellQuoted(value)), 'User')"
        case .cmd:
            guard !value.contains("\n") else { throw .multiline(syntax: self, key: key) }
            return "set \(key)=\(value)"
        case .json:
            return Self.json([key: value])
        }
    }

    /// Characters with no special meaning to a POSIX shell: such a word needs no quotes.
    static func isShellSafe(_ value: String) -> Bool {
        !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "@", "%", "+", "=", ":", ",", ".", "/", "-", "_": true
            default: false
            }
        }
    }

    /// POSIX shell: single quotes keep everything literal but the single quote, written `'\''`.
    static func shellQuoted(_ value: String) -> String {
        if isShellSafe(value) { return value }
        return "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// csh: as the shell, and a newline inside quotes must be escaped with a backslash; `!`
    /// (history) is escaped too, since interactive csh expands it even inside single quotes.
    static func cshQuoted(_ value: String) -> String {
        if isShellSafe(value) { return value }
        var quoted = "'"
        for character in value {
            switch character {
            case "'": quoted += #"'\''"#
            case "\n": quoted += "\\\n"
            case "!": quoted += #"'\!'"#
            default: quoted.append(character)
            }
        }
        return quoted + "'"
    }

    /// Compose's .env: plain when nothing is special; single quotes (literal, `\'` for a quote)
    /// otherwise, double quotes with `\n`, `\t`, `\r` escapes when the value has those (where
    /// compose, like Telepresence's writer, would still interpolate a `$`).
    static func composeQuoted(_ value: String) -> String {
        if value.isEmpty || isShellSafe(value) { return value }
        let quote: Character = value.contains(where: { $0 == "\n" || $0 == "\t" || $0 == "\r" }) ? "\"" : "'"
        var quoted = String(quote)
        for character in value {
            switch character {
            case quote: quoted += "\\" + String(character)
            case "\n": quoted += #"\n"#
            case "\t": quoted += #"\t"#
            case "\r": quoted += #"\r"#
            default: quoted.append(character)
            }
        }
        quoted.append(quote)
        return quoted
    }

    /// PowerShell: single quotes, a single quote written twice.
    static func powerShellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A JSON object with sorted keys (the same environment always writes the same bytes).
    static func json(_ environment: [String: String]) -> String {
        let members = environment.keys.sorted().map { "  \(jsonString($0)): \(jsonString(environment[$0] ?? ""))" }
        return members.isEmpty ? "{}\n" : "{\n" + members.joined(separator: ",\n") + "\n}\n"
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += #"\""#
            case "\\": out += #"\\"#
            case "\n": out += #"\n"#
            case "\r": out += #"\r"#
            case "\t": out += #"\t"#
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A value the chosen syntax cannot carry.
public enum EnvironmentSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    case multiline(syntax: EnvironmentSyntax, key: String)

    public var description: String {
        switch self {
        case .multiline(let syntax, let key):
            "the \(syntax) env-file syntax cannot hold the multi-line value of \(key); use --env-syntax compose, sh or json"
        }
    }
}
