#if canImport(Glibc)
import DNS
import Glibc
#endif

/// Replaces /etc/resolv.conf while connected and restores it byte for byte, also after a crash:
/// the original bytes go to a backup file first (synced), the next `apply` or `restoreLeftover`
/// finds a backup and puts it back before anything else.
///
/// Writes happen in place (truncate and write, not rename): /etc/resolv.conf is often a bind
/// mount (`ip netns exec` mounts /etc/netns/NAME/resolv.conf there, containers mount theirs),
/// and a rename onto a mount point fails with EBUSY. A symlinked resolv.conf (systemd-resolved's
/// stub, NetworkManager's) is written through the link, so the link itself survives.
public struct ResolvConfOverride: Sendable {
    public let path: String
    public let backupPath: String

    public init(path: String = "/etc/resolv.conf", backupPath: String) {
        self.path = path
        self.backupPath = backupPath
    }

    /// The original configuration (the backup's if one is left over).
    public func original() throws(DNSConfigError) -> ResolvConf {
        ResolvConf(parsing: String(decoding: try readFile(exists(backupPath) ? backupPath : path), as: UTF8.self))
    }

    /// Saves the original (unless a backup is already there: that one is the true original,
    /// left by a run that crashed) and writes `replacement`.
    public func apply(_ replacement: ResolvConf) throws(DNSConfigError) {
        if !exists(backupPath) {
            try writeFile(backupPath, try readFile(path), sync: true, mode: 0o600)
        }
        try writeFile(path, Array(replacement.text.utf8), sync: false, mode: nil)
    }

    /// Puts the original bytes back and removes the backup; a no-op without a backup.
    /// Returns whether there was something to restore.
    @discardableResult
    public func restore() throws(DNSConfigError) -> Bool {
        guard exists(backupPath) else { return false }
        try writeFile(path, try readFile(backupPath), sync: true, mode: nil)
        if unlink(backupPath) != 0 { throw .io("remove \(backupPath)", errno) }
        return true
    }

    private func exists(_ file: String) -> Bool { access(file, F_OK) == 0 }

    private func readFile(_ file: String) throws(DNSConfigError) -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("read \(file)", errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("read \(file)", errno)
            }
            if n == 0 { return bytes }
            bytes += chunk.prefix(n)
        }
    }

    private func writeFile(_ file: String, _ bytes: [UInt8], sync: Bool, mode: mode_t?) throws(DNSConfigError) {
        let flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        let fd = open(file, flags, mode ?? 0o644)
        guard fd >= 0 else { throw .io("write \(file)", errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("write \(file)", errno)
            }
            offset += n
        }
        if sync, fsync(fd) != 0 { throw .io("sync \(file)", errno) }
    }
}

public enum DNSConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(String, Int32)

    public var description: String {
        switch self {
        case .io(let action, let code):
            "cannot \(action): \(String(cString: strerror(code))); the root daemon needs write access to it to configure cluster DNS"
        }
    }
}
