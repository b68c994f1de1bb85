import Foundation

/// Runs a system tool (`ip`, `nft`) to completion from the calling thread, so that a thread
/// inside a network namespace starts it there (a child inherits its parent thread's namespace).
enum SystemCommand {
    /// Runs `arguments[0]` (searched in the usual sbin directories) with `input` as stdin and
    /// returns its combined output; throws when it exits non-zero, unless `allowFailure`.
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil, allowFailure: Bool = false) throws(ClusterNetworkError) -> String {
        let tool = arguments[0]
        guard let path = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map({ "\($0)/\(tool)" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw .commandFailed(command: arguments.joined(separator: " "), status: 127, output: "\(tool) not found")
        }
        // Input goes through an unlinked temp file rather than a pipe: a tool that fails before
        // reading it can never block us or raise SIGPIPE.
        var inputFD: Int32 = -1
        if let input {
            var template = Array("/tmp/sandbox-input-XXXXXX".utf8CString)
            inputFD = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard inputFD >= 0 else { throw .system("create a temporary file", errno: errno) }
            _ = fcntl(inputFD, F_SETFD, FD_CLOEXEC)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            let bytes = Array(input.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { write(inputFD, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                written += n
            }
            lseek(inputFD, 0, SEEK_SET)
        }
        defer { if inputFD >= 0 { close(inputFD) } }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw .system("create a pipe", errno: errno) }
        // Close-on-exec so other spawns (other threads) do not inherit our ends.
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if inputFD >= 0 {
            posix_spawn_file_actions_adddup2(&actions, inputFD, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        let argv = ([path] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(pipeFDs[1])
        guard spawned == 0 else {
            close(pipeFDs[0])
            throw .system("start \(tool)", errno: spawned)
        }
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
            if n > 0 { output += buffer[0..<n]; continue }
            if n < 0, errno == EINTR { continue }
            break
        }
        close(pipeFDs[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = String(decoding: output, as: UTF8.self)
        if code != 0, !allowFailure {
            throw .commandFailed(command: arguments.joined(separator: " "), status: code, output: text)
        }
        return text
    }
}
