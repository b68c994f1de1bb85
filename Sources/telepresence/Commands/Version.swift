import ArgumentParser

enum TelepresenceVersion {
    static let current = "0.1.0-dev"
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the version of the client.")
    func run() throws {
        print("Client: v\(TelepresenceVersion.current)")
    }
}
