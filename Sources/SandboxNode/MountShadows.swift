import Foundation
import SandboxAPIServer
import SandboxNetwork

/// Bind mounts in a container's private mount namespace whose targets may not exist on the
/// host (`/var/run/secrets/kubernetes.io/serviceaccount`, `/config`). Nothing may be created on
/// the host's filesystem, so the nearest existing ancestor is shadowed by a tmpfs that holds
/// bind mounts of its original entries plus the new directories, visible only in this
/// namespace. `/` itself is rebuilt on the scratch directory and made the root.
struct MountShadows {
    /// Directories on a tmpfs made here: anything below them may be created freely.
    var ours: Set<String> = []
    let scratch: String

    init(scratch: String) { self.scratch = scratch }

    mutating func bind(_ entry: LaunchSpec.Mount) throws(LaunchError) {
        var info = stat()
        guard stat(entry.source, &info) == 0 else { throw .system("find the volume \(entry.source)", errno) }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        let target = Self.normalize(entry.target)
        try ensure(target, directory: isDirectory)
        guard mount(entry.source, target, nil, UInt(MS_BIND | MS_REC), nil) == 0 else {
            throw .system("mount \(entry.source) at \(target)", errno)
        }
        if entry.readOnly {
            guard mount("none", target, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC), nil) == 0 else {
                throw .system("make \(target) read-only", errno)
            }
        }
    }

    /// Whether binding at `target` needs `/` rebuilt (its nearest existing ancestor is `/`). That
    /// is done before any other mount: a volume at `/tmp` would otherwise hide the scratch
    /// directory when the node's state lives under /tmp.
    static func needsNewRoot(_ target: String) -> Bool {
        let path = normalize(target)
        if exists(path) { return false }
        var components = path.split(separator: "/").map(String.init)
        while !components.isEmpty, !exists("/" + components.joined(separator: "/")) { components.removeLast() }
        guard let resolved = realpath("/" + components.joined(separator: "/"), nil) else { return components.isEmpty }
        defer { free(resolved) }
        return String(cString: resolved) == "/"
    }

    /// `/a//b/` -> `/a/b`.
    static func normalize(_ path: String) -> String {
        "/" + path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Makes `path` exist (a directory, or an empty file) without writing to the host.
    mutating func ensure(_ path: String, directory: Bool) throws(LaunchError) {
        if Self.exists(path) { return }
        var components = path.split(separator: "/").map(String.init)
        var missing: [String] = []
        while !components.isEmpty, !Self.exists("/" + components.joined(separator: "/")) {
            missing.insert(components.removeLast(), at: 0)
        }
        let ancestor = "/" + components.joined(separator: "/")
        let base: String
        if let resolved = realpath(ancestor, nil) {
            base = String(cString: resolved)
            free(resolved)
        } else {
            base = ancestor
        }
        if !ours.contains(base) { try shadow(base) }
        var current = base == "/" ? "" : base
        for (index, name) in missing.enumerated() {
            current += "/" + name
            if index == missing.count - 1, !directory {
                let fd = open(current, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw .system("create the mount point \(current)", errno) }
                close(fd)
            } else {
                guard mkdir(current, 0o755) == 0 || errno == EEXIST else { throw .system("create the mount point \(current)", errno) }
                ours.insert(current)
            }
        }
    }

    /// Covers `directory` with a tmpfs that shows what it held (bind mounts of its entries).
    mutating func shadow(_ directory: String) throws(LaunchError) {
        if directory == "/" { return try shadowRoot() }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open \(directory)", errno) }
        defer { close(fd) }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard mount("tmpfs", directory, "tmpfs", 0, "mode=0755") == 0 else { throw .system("mount a tmpfs at \(directory)", errno) }
        // The originals stay reachable through the descriptor, beneath the tmpfs.
        Self.populate(directory, from: "/proc/self/fd/\(fd)", entries: entries)
        ours.insert(directory)
    }

    /// Rebuilds `/` on the scratch directory (a tmpfs with every top-level entry bound in)
    /// and moves it over `/`, as switch_root does; execs joining later see it as the root.
    mutating func shadowRoot() throws(LaunchError) {
        guard !scratch.isEmpty else { throw .failed("no scratch directory to rebuild / on") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/")) ?? []
        guard mount("tmpfs", scratch, "tmpfs", 0, "mode=0755") == 0 else { throw .system("mount a tmpfs at \(scratch)", errno) }
        Self.populate(scratch, from: "", entries: entries)
        guard chdir(scratch) == 0 else { throw .system("enter \(scratch)", errno) }
        guard mount(".", "/", nil, UInt(MS_MOVE), nil) == 0 else { throw .system("move the new root over /", errno) }
        guard chroot(".") == 0 else { throw .system("change root", errno) }
        _ = chdir("/")
        ours.insert("/")
    }

    /// Recreates `entries` of `source` in `target`: symlinks copied, everything else bound.
    static func populate(_ target: String, from source: String, entries: [String]) {
        for entry in entries {
            let from = "\(source)/\(entry)"
            let to = target == "/" ? "/\(entry)" : "\(target)/\(entry)"
            var info = stat()
            guard lstat(from, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlink(from, &buffer, buffer.count - 1)
                guard count > 0 else { continue }
                buffer[count] = 0
                _ = symlink(buffer, to)
            case S_IFDIR:
                _ = mkdir(to, 0o755)
                _ = mount(from, to, nil, UInt(MS_BIND | MS_REC), nil)
            default:
                let fd = open(to, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                if fd >= 0 { close(fd) }
                _ = mount(from, to, nil, UInt(MS_BIND | MS_REC), nil)
            }
        }
    }
}
