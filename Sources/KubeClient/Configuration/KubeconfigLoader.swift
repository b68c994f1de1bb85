import Foundation

/// Finds and reads kubeconfig files and merges them with kubectl's rules:
/// - `--kubeconfig F` reads only `F`, and a missing `F` is an error;
/// - otherwise the `KUBECONFIG` list (`:`-separated), or `~/.kube/config` without it;
///   missing files are skipped and repeated paths read once;
/// - the first file that defines a cluster, user or context name wins for the whole entry;
/// - the first file that sets `current-context` wins.
public enum KubeconfigLoader {
    /// The files kubectl would read without `--kubeconfig`, absolute, duplicates removed.
    public static func searchPaths(environment: ConfigurationEnvironment) -> [String] {
        if let list = environment.variables["KUBECONFIG"], !list.isEmpty {
            var seen = Set<String>()
            return list.split(separator: ":", omittingEmptySubsequences: true)
                .map { environment.absolute(String($0)) }
                .filter { seen.insert($0).inserted }
        }
        return [KubeconfigParser.resolve(".kube/config", relativeTo: environment.homeDirectory)]
    }

    /// Loads the configuration selected by `explicitFile` (`--kubeconfig`) or the environment.
    public static func load(explicitFile: String?, environment: ConfigurationEnvironment) throws -> Kubeconfig {
        if let explicitFile, !explicitFile.isEmpty {
            return try loadFile(environment.absolute(explicitFile))
        }
        let paths = searchPaths(environment: environment)
        var configs: [Kubeconfig] = []
        for path in paths where FileManager.default.fileExists(atPath: path) {
            configs.append(try loadFile(path))
        }
        var merged = merge(configs)
        merged.searchedFiles = paths
        return merged
    }

    /// Reads and parses one file. A missing or unreadable file is an error.
    public static func loadFile(_ path: String) throws -> Kubeconfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path)
                ? "the file is not readable (\(error.localizedDescription))" : "the file does not exist"
            throw ConfigurationError.unreadableFile(path: path, reason: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError.syntax(file: path, line: nil, problem: "the file is not UTF-8 text")
        }
        var config = try KubeconfigParser.parse(text, file: path)
        config.searchedFiles = [path]
        return config
    }

    /// Merges configurations given in precedence order (first wins).
    public static func merge(_ configs: [Kubeconfig]) -> Kubeconfig {
        var merged = Kubeconfig()
        for config in configs {
            merged.files.append(contentsOf: config.files.filter { !merged.files.contains($0) })
            for entry in config.clusters where merged.cluster(named: entry.name) == nil {
                merged.clusters.append(entry)
            }
            for entry in config.users where merged.user(named: entry.name) == nil {
                merged.users.append(entry)
            }
            for entry in config.contexts where merged.context(named: entry.name) == nil {
                merged.contexts.append(entry)
            }
            if merged.currentContext == nil, let current = config.currentContext {
                merged.currentContext = current
                merged.currentContextFile = config.currentContextFile
            }
            if merged.preferences == nil {
                merged.preferences = config.preferences
            }
        }
        return merged
    }
}
