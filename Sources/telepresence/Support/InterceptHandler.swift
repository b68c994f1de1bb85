import ChildProcess
import ClientSupport
import Foundation

/// The handler command after `intercept ... --`: it runs with this machine's environment plus
/// the engaged container's (and TELEPRESENCE_INTERCEPT_ID, TELEPRESENCE_CONTAINER,
/// TELEPRESENCE_MOUNTS); the daemon learns its pid (so `quit` or the intercept's end signals
/// it); SIGINT and SIGTERM sent to the CLI are passed to it first; when it exits the intercept
/// ends, and its exit code is the CLI's.
struct InterceptHandler {
    let intercept: ClientSupport.Intercept
    let command: [String]
    let waitMessage: String?

    func run() async throws -> Int32 {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in intercept.handlerEnvironment { environment[key] = value }
        let pid: pid_t
        // Signals are caught before the child exists, so none is lost between the two.
        SignalRelay.install()
        do {
            pid = try ChildProcess.spawn(ChildProcess.Launch(
                executable: "/usr/bin/env", arguments: command,
                environment: environment.map { "\($0.key)=\($0.value)" }))
        } catch {
            SignalRelay.uninstall()
            _ = try? await Daemon.ifRunning { [name = intercept.name] in try await $0.removeIntercept(name: name) }
            throw CLIError("\(command[0]) could not be started (\(error)); the intercept was removed")
        }
        SignalRelay.relay(to: pid)
        do {
            _ = try await Daemon.ifRunning { [id = intercept.id] in try await $0.addInterceptor(interceptID: id, pid: pid) }
        } catch {
            // The intercept ended before the daemon learned of the handler: stop it now.
            FileHandle.standardError.write(Data("telepresence: the intercept \(intercept.name) has ended (\(error)); stopping the handler\n".utf8))
            kill(pid, SIGTERM)
        }
        if let waitMessage {
            print(waitMessage)
            fflush(nil)
        }
        let status = await ChildProcess.waitForExit(pid)
        SignalRelay.relay(to: 0)
        _ = try? await Daemon.ifRunning { [name = intercept.name] in try await $0.removeIntercept(name: name) }
        SignalRelay.uninstall()
        return status
    }
}

/// Passes SIGINT and SIGTERM on to the handler (async-signal-safe: the handler only calls
/// kill). A Ctrl-C at a terminal reaches the handler directly (same process group), so the
/// relay passes on only signals sent to the CLI's pid by another process (si_code SI_USER).
enum SignalRelay {
    nonisolated(unsafe) static var target: pid_t = 0

    static func install() {
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signal, info, _ in
                let target = SignalRelay.target
                guard target > 0 else { return }
                // SI_USER (0) or SI_TKILL: sent by kill(2); a terminal's Ctrl-C is SI_KERNEL and
                // already reached the handler's process group.
                if let info, info.pointee.si_code <= 0 { kill(target, signal) }
            }
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    static func relay(to pid: pid_t) { target = pid }

    static func uninstall() {
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = SIG_DFL
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }
}
