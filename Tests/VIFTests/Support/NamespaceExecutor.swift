import NIOCore

/// Runs a task's jobs on an event loop whose thread lives in a test's network namespace, so that
/// async code which makes sockets on its calling thread (NIO's bootstraps do) makes them there.
/// Use with `withTaskExecutorPreference`.
final class NamespaceExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
