import Foundation
import SandboxAPIServer
import SandboxNetwork
import Yams

/// Which executable a container image stands for on the process node (there is no registry and
/// no image store): built-ins for the repo's own images and the test images, plus an optional
/// mapping file:
///
/// ```yaml
/// images:
///   example.com/team/app:          # a repository (any tag) or a full reference
///     executable: /usr/local/bin/app
///     args: ["--port", "8080"]     # prepended to the container's command and args
/// ```
public struct ImageCatalog: Sendable {
    /// An executable an image maps to, and arguments put before the container's own.
    public struct Mapping: Sendable, Equatable, Decodable {
        public var executable: String
        public var args: [String]

        public init(executable: String, args: [String] = []) {
            self.executable = executable
            self.args = args
        }

        enum CodingKeys: String, CodingKey { case executable, args }
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            executable = try container.decode(String.self, forKey: .executable)
            args = try container.decodeIfPresent([String].self, forKey: .args) ?? []
        }
    }

    /// What a container runs, or why its image cannot be "pulled".
    public enum Resolution: Sendable, Equatable {
        case run([String])
        /// Kubernetes' ErrImagePull waiting message.
        case pullFailed(String)
    }

    /// The repository of the traffic-manager and traffic-agent images (any tag).
    public static let trafficRepository = "ghcr.io/telepresence-swift/traffic"
    /// The test app: HTTP, TCP and UDP echo.
    public static let echoRepository = "sandbox.local/echo"
    /// Cluster DNS's pods (kube-system/coredns): `sandbox-cluster coredns` stands in.
    public static let coreDNSRepository = "registry.k8s.io/coredns/coredns"
    /// Images whose containers run their command as given, from the host's PATH.
    static let shellImages: Set<String> = ["busybox", "alpine", "debian", "sandbox.local/shell"]

    let executablesDirectory: URL
    let mappings: [String: Mapping]

    /// `executablesDirectory` holds the built `traffic` and `sandbox-echo`.
    public init(executablesDirectory: URL, mappings: [String: Mapping] = [:]) {
        self.executablesDirectory = executablesDirectory
        self.mappings = mappings
    }

    /// Reads the mapping file (YAML, as above).
    public init(executablesDirectory: URL, mappingFile: URL) throws {
        struct File: Decodable { var images: [String: Mapping]? }
        let text: String
        do {
            text = try String(contentsOf: mappingFile, encoding: .utf8)
        } catch {
            throw PodRuntimeError.failed("cannot read the image mapping file \(mappingFile.path): \(error.localizedDescription); check the path given to --images")
        }
        do {
            let file = try YAMLDecoder().decode(File.self, from: text)
            self.init(executablesDirectory: executablesDirectory, mappings: file.images ?? [:])
        } catch {
            throw PodRuntimeError.failed("the image mapping file \(mappingFile.path) is not valid: \(error); write 'images: {REPOSITORY: {executable: PATH, args: [...]}}'")
        }
    }

    /// The argv of a container of `image` with the pod spec's `command` and `args`.
    public func resolve(image: String, command: [String], args: [String]) -> Resolution {
        let repository = Self.repository(of: image)
        if let mapping = mappings[image] ?? mappings[repository] {
            return .run([mapping.executable] + mapping.args + command + args)
        }
        if repository == Self.trafficRepository || repository == "docker.io/\(Self.trafficRepository)" {
            return builtIn("traffic", image: image, command: command, args: args)
        }
        if repository == Self.echoRepository {
            return builtIn("sandbox-echo", image: image, command: command, args: args)
        }
        if repository == Self.coreDNSRepository {
            return builtIn("sandbox-cluster", image: image, command: ["coredns"] + command, args: args)
        }
        let name = repository.split(separator: "/").last.map(String.init) ?? repository
        if Self.shellImages.contains(repository) || Self.shellImages.contains(name) {
            // The image's entrypoint is empty and its default command a shell, as busybox's.
            let argv = command.isEmpty ? (args.isEmpty ? ["sh"] : args) : command + args
            return .run(argv)
        }
        return .pullFailed(Self.notFoundMessage(image))
    }

    func builtIn(_ executable: String, image: String, command: [String], args: [String]) -> Resolution {
        let path = executablesDirectory.appendingPathComponent(executable).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .pullFailed("Failed to pull image \"\(image)\": the sandbox runs it as the executable \(path), which is not built; run 'swift build' first")
        }
        return .run([path] + command + args)
    }

    /// Kubernetes' message for an image the registry does not have.
    static func notFoundMessage(_ image: String) -> String {
        let full = fullReference(image)
        return "Failed to pull image \"\(image)\": rpc error: code = NotFound desc = failed to pull and unpack image \"\(full)\": failed to resolve reference \"\(full)\": \(full): not found"
    }

    /// `busybox` -> `docker.io/library/busybox:latest`.
    static func fullReference(_ image: String) -> String {
        var reference = image
        let first = image.split(separator: "/").first.map(String.init) ?? image
        let hasRegistry = image.contains("/") && (first.contains(".") || first.contains(":") || first == "localhost")
        if !hasRegistry { reference = image.contains("/") ? "docker.io/\(image)" : "docker.io/library/\(image)" }
        let last = reference.split(separator: "/").last ?? ""
        if !last.contains(":") && !reference.contains("@") { reference += ":latest" }
        return reference
    }

    /// The reference without its tag or digest: `reg:5000/a/b:1.2@sha256:…` -> `reg:5000/a/b`.
    public static func repository(of image: String) -> String {
        var reference = image
        if let at = reference.firstIndex(of: "@") { reference = String(reference[..<at]) }
        if let slash = reference.lastIndex(of: "/") {
            let tail = reference[reference.index(after: slash)...]
            if let colon = tail.firstIndex(of: ":") { reference = String(reference[..<colon]) }
        } else if let colon = reference.firstIndex(of: ":") {
            reference = String(reference[..<colon])
        }
        return reference
    }
}
