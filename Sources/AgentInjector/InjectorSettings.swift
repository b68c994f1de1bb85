// STAND-IN until eng-injector is merged (see README.md).

/// What the injector needs to know of the manager that runs it.
public struct InjectorSettings: Sendable, Hashable {
    public var managerNamespace: String
    public var agentImage: String
    public var managerPort: Int
    public var logLevel: String

    public init(managerNamespace: String, agentImage: String, managerPort: Int = 8081, logLevel: String = "info") {
        self.managerNamespace = managerNamespace
        self.agentImage = agentImage
        self.managerPort = managerPort
        self.logLevel = logLevel
    }
}

/// Why no agent config can be made for a workload, as one sentence.
public struct InjectorError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
