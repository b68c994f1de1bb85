import ArgumentParser
import Foundation
import KubeClient
import ManagerInstall
import Yams

/// `telepresence helm install|upgrade|uninstall|template`: the traffic-manager's install,
/// rendered and applied by the CLI itself (no helm binary), with Helm's flags.
struct Helm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install, upgrade or remove the traffic-manager (without a helm binary).",
        subcommands: [Install.self, Upgrade.self, Uninstall.self, Template.self])

    /// The flags install, upgrade and template share.
    struct ValueFlags: ParsableArguments {
        @Option(name: .customLong("set"), help: "Set a value (repeatable): key=value, lists as key={a,b}.")
        var sets: [String] = []

        @Option(name: [.customShort("f"), .customLong("values")], help: "A YAML file of values (repeatable; later files win).")
        var valueFiles: [String] = []

        func values() throws -> ManagerValues {
            var files: [JSONValue] = []
            for path in valueFiles {
                let text: String
                do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw InstallError.valuesFile(path: path, reason: "it cannot be read (\(error.localizedDescription))")
                }
                do {
                    let parsed = try Yams.load(yaml: text)
                    files.append(try JSONValue(data: JSONSerialization.data(withJSONObject: parsed ?? [String: Any](), options: [.fragmentsAllowed])))
                } catch {
                    throw InstallError.valuesFile(path: path, reason: "it is not YAML (\(error))")
                }
            }
            return try ManagerValues.resolve(files: files, sets: sets)
        }
    }

    struct Target: ParsableArguments {
        @Option(name: .shortAndLong, help: "The namespace of the traffic-manager.")
        var namespace: String?

        var releaseNamespace: String {
            namespace ?? (try? Daemon.config().defaultManagerNamespace) ?? "ambassador"
        }
    }

    static func installer(kube: KubeFlags, namespace: String) throws -> ManagerInstaller {
        let configuration = try ClientConfigurationLoader.load(overrides: kube.overrides())
        var installer = ManagerInstaller(client: KubeClient(configuration: configuration), namespace: namespace) { line in
            Terminal.progress(line)
        }
        installer.rolloutTimeout = (try? Daemon.config().helmTimeout) ?? .seconds(30)
        return installer
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Install the traffic-manager.")
        @OptionGroup var target: Target
        @OptionGroup var values: ValueFlags
        @Option(help: "Create the namespace when it does not exist.")
        var createNamespace: Bool = true
        @OptionGroup var kube: KubeFlags

        func run() async throws {
            let ns = target.releaseNamespace
            let record = try await Helm.installer(kube: kube, namespace: ns).install(values: try values.values(), createNamespace: createNamespace)
            print("Traffic Manager installed successfully (namespace \(ns), revision \(record.revision))")
        }
    }

    struct Upgrade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upgrade the traffic-manager (or install it with --install).")
        @OptionGroup var target: Target
        @OptionGroup var values: ValueFlags
        @Flag(help: "Start from the values of the installed release (then apply -f and --set).")
        var reuseValues = false
        @Flag(name: .shortAndLong, help: "Install when there is nothing to upgrade.")
        var install = false
        @Option(help: "Create the namespace when it does not exist (with --install).")
        var createNamespace: Bool = true
        @OptionGroup var kube: KubeFlags

        func run() async throws {
            let ns = target.releaseNamespace
            let installer = try Helm.installer(kube: kube, namespace: ns)
            var resolved = try values.values()
            if reuseValues, let current = try await installer.currentRelease() {
                var files: [JSONValue] = [try JSONValue(encoding: current.values)]
                for path in values.valueFiles {
                    let text = try String(contentsOfFile: path, encoding: .utf8)
                    files.append(try JSONValue(data: JSONSerialization.data(withJSONObject: Yams.load(yaml: text) ?? [String: Any]())))
                }
                resolved = try ManagerValues.resolve(files: files, sets: values.sets)
            }
            let record = try await installer.upgrade(values: resolved, installIfMissing: install, createNamespace: createNamespace)
            print("Traffic Manager upgraded successfully (namespace \(ns), revision \(record.revision))")
        }
    }

    struct Uninstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the traffic-manager and everything its install created.")
        @OptionGroup var target: Target
        @OptionGroup var kube: KubeFlags

        func run() async throws {
            let ns = target.releaseNamespace
            try await Helm.installer(kube: kube, namespace: ns).uninstall()
            print("Traffic Manager uninstalled successfully (namespace \(ns))")
        }
    }

    struct Template: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the traffic-manager's manifests (for GitOps or kubectl apply).")
        @OptionGroup var target: Target
        @OptionGroup var values: ValueFlags
        @Flag(help: "Leave out the Namespace object.")
        var noNamespace = false
        @OptionGroup var output: OutputFlags

        func run() async throws {
            let objects = ManagerManifests(namespace: target.releaseNamespace, values: try values.values())
                .objects(includeNamespace: !noNamespace)
            switch output.output {
            case .json:
                try output.print(["apiVersion": "v1", "kind": "List", "items": JSONValue.array(objects)] as JSONValue) { TextTable(header: nil, rows: []) }
            default:
                // Sorted keys: the same values always print the same bytes (GitOps diffs stay quiet).
                let encoder = YAMLEncoder()
                encoder.options.sortKeys = true
                for object in objects {
                    print("---")
                    print(try encoder.encode(object), terminator: "")
                }
            }
        }
    }
}
