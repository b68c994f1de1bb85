import CLinuxSupport
import Foundation

extension ChildProcess {
    /// One program to start with `posix_spawn`: what it runs, which descriptors it gets, and
    /// whether it leads a session of its own. Every way this module runs a program starts here.
    public struct Launch: Sendable {
        /// The executable's path (see ``ChildProcess/locate(_:)`` for names).
        public var executable: String
        /// The whole argument vector, `argv[0]` included.
        public var argumentVector: [String]
        /// `NAME=value` entries; nil passes this process's environment on.
        public var environment: [String]?
        /// Descriptors 0, 1 and 2 of the child; nil inherits the caller's.
        public var stdin: Int32?
        public var stdout: Int32?
        public var stderr: Int32?
        /// More descriptors of the child, by number, from the caller's (e.g. 3: a status pipe).
        public var extraDescriptors: [Int32: Int32]
        /// A new session (setsid): no terminal's hangup or job-control signal reaches the child,
        /// and its process group is its own.
        public var newSession: Bool
        /// Whether the child keeps the caller's other descriptors that are not close-on-exec
        /// (false for daemons: a caller's pipe would never see end of file while they run).
        public var inheritsOtherDescriptors: Bool

        public init(
            executable: String, arguments: [String], environment: [String]? = nil,
            stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil, extraDescriptors: [Int32: Int32] = [:],
            newSession: Bool = false, inheritsOtherDescriptors: Bool = true
        ) {
            self.executable = executable
            self.argumentVector = [executable] + arguments
            self.environment = environment
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
            self.extraDescriptors = extraDescriptors
            self.newSession = newSession
            self.inheritsOtherDescriptors = inheritsOtherDescriptors
        }

        /// The command line as a user would type it (for messages).
        public var commandLine: String { argumentVector.joined(separator: " ") }
    }

    /// Starts `launch` and returns the child's pid; the caller waits for it (``waitForExit(_:)``)
    /// unless it is a daemon. Signals this process ignores or blocks are reset to their defaults
    /// in the child, so a program starts as it would from a shell.
    public static func spawn(_ launch: Launch) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let mapped: [(target: Int32, source: Int32)] =
            [(0, launch.stdin), (1, launch.stdout), (2, launch.stderr)].compactMap { target, source in source.map { (target, $0) } }
            + launch.extraDescriptors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        for (target, source) in mapped { posix_spawn_file_actions_adddup2(&actions, source, target) }
        if !launch.inheritsOtherDescriptors {
            // posix_spawn_file_actions_addclosefrom_np is not imported into Swift: close each
            // open descriptor by number (closing one that is gone by then is no error).
            let kept = Set([0, 1, 2] + launch.extraDescriptors.keys)
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for fd in open.compactMap(Int32.init) where !kept.contains(fd) {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if launch.newSession { flags |= lx_posix_spawn_setsid_flag() }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv = launch.argumentVector.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code: Int32
        if let environment = launch.environment {
            let envp = environment.map { strdup($0) } + [nil]
            defer { envp.forEach { free($0) } }
            code = posix_spawn(&pid, launch.executable, &actions, &attributes, argv, envp)
        } else {
            code = posix_spawn(&pid, launch.executable, &actions, &attributes, argv, environ)
        }
        guard code == 0 else { throw SpawnError(executable: launch.executable, errno: code) }
        return pid
    }
}
