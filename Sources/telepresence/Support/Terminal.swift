import Foundation

/// Progress for a person at a terminal; nothing when stderr is piped or redirected (scripts).
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) == 1

    static func progress(_ line: String) {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// This executable's own path, to start the daemon from the same build.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// An error the CLI prints as one sentence and exits 1 for.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
