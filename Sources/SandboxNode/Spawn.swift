import ChildProcess
import Foundation
import SandboxAPIServer
import SandboxNetwork

/// A pipe whose ends close on exec (the child gets only what `spawn` maps into place).
func makePipe() throws -> (read: Int32, write: Int32) {
    do { return try ChildProcess.pipe() } catch { throw PodRuntimeError.failed("\(error)") }
}

/// Starts `arguments` at `path` (through ``ChildProcess/spawn(_:)``) with `stdio` as
/// descriptors 0, 1 and 2 and `descriptor3` as 3 (the parent keeps its own copies).
func spawn(_ path: String, _ arguments: [String], stdio: (Int32, Int32, Int32), descriptor3: Int32? = nil) throws -> pid_t {
    do {
        return try ChildProcess.spawn(ChildProcess.Launch(
            executable: path, arguments: Array(arguments.dropFirst()), stdin: stdio.0, stdout: stdio.1, stderr: stdio.2,
            extraDescriptors: descriptor3.map { [3: $0] } ?? [:]))
    } catch {
        throw PodRuntimeError.failed("\(error)")
    }
}

/// Reads `fd` to its end (or until `timeout`) and closes it; what was written.
func readToEnd(_ fd: Int32, timeout: Duration) -> String {
    defer { close(fd) }
    var text: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1024)
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, 100)
        if ready <= 0 { continue }
        let count = read(fd, &buffer, buffer.count)
        if count < 0, errno == EINTR { continue }
        if count <= 0 { break }
        text += buffer[0..<count]
    }
    return String(decoding: text, as: UTF8.self)
}
