import Foundation

/// A thread started for one blocking job (waitpid, reading a child's pipes) that ends with it:
/// the job never occupies a thread of Swift's cooperative pool, whose few threads the rest of
/// the process needs.
enum DedicatedThread {
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }
}
