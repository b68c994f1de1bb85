import ArgumentParser
import Foundation
import Sandbox
import Diagnostics
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the API server in the foreground (what 'up' starts in the background).", shouldDisplay: false)

    @OptionGroup var options: ClusterOptions

    @Option(help: "The address to listen on.")
    var address: String = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port).")
    var port: Int = 0

    @Option(help: "'process' makes the cluster network and runs pods as processes; 'virtual' runs without either.")
    var node: NodeKind = .process

    @Option(name: .customLong("link-delay-ms"), help: "Delay on the workstation link, milliseconds each way.")
    var linkDelayMs: Int?

    @Option(help: "A YAML file mapping images to executables for the process node.")
    var images: String?

    func run() async throws {
        ProcessMemory.keepFreedBuffers()
        let dir = options.directory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Signals are watched from the start, so a `down` during start-up still cleans up.
        let termination = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        var topology: ClusterTopology?
        var network: ClusterNetwork?
        var server: APIServer?
        var failure: (any Error)?
        do {
            if node == .process {
                topology = try ClusterTopology.create(cluster: options.name, linkDelay: linkDelayMs.map { .milliseconds($0) })
            }
            let listener = topology.map { APIServer.ClusterListener(names: $0.names) }
            var mode = NodeMode.virtual
            if node == .process {
                await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
                mode = .process(ProcessNodeOptions(
                    cluster: options.name, stateDirectory: dir, imageMappingFile: images.map { URL(fileURLWithPath: $0) }))
            }
            let started = try await APIServer.start(.init(
                name: options.name, host: address, port: port, clusterListener: listener, node: mode))
            server = started
            // Every request RBAC refuses, one JSON object per line: what a test reads to prove a
            // component needs no permission its install does not grant.
            started.api.denials.write(to: dir.appendingPathComponent("audit.log"))
            if let topology { network = try await ClusterNetwork.start(server: started, topology: topology) }
            try started.writeKubeconfig(to: dir.appendingPathComponent("kubeconfig"))
            if let clusterURL = started.clusterURL {
                let url = dir.appendingPathComponent("workstation.kubeconfig")
                try started.kubeconfig(server: clusterURL).write(to: url, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
            }
            try started.certificateAuthority.certificatePEM.write(to: dir.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
            try String(getpid()).write(to: dir.appendingPathComponent("pid"), atomically: true, encoding: .utf8)
            // Last: `up` takes the port file as the sign that everything serves.
            try String(started.port).write(to: dir.appendingPathComponent("port"), atomically: true, encoding: .utf8)
            print("sandbox API server '\(options.name)' serving on \(started.url)\(started.clusterURL.map { " and \($0) in \(topology!.names.nodeNamespace)" } ?? "")")
            for await _ in termination { break }
            print("stopping")
        } catch {
            print("error: \(error)")
            failure = error
        }
        await network?.stop()
        try? await server?.shutdown()
        topology?.destroy()
        if let failure { throw failure }
    }
}
