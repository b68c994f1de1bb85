import UnixSignals

/// How a daemon subcommand lives: until its API's Quit (`wait` returns) or SIGTERM/SIGINT,
/// which end it as Quit does (`stop`).
enum DaemonLifetime {
    static func run(wait: @escaping @Sendable () async -> Void, stop: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await wait() }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { await stop(); return }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
