#if canImport(Glibc)
import Glibc

/// glibc malloc settings for processes that move bulk data (the daemons, the traffic-manager,
/// the sandbox's API server).
///
/// By default glibc hands large blocks back to the kernel as soon as they are freed (mmap
/// threshold and top-of-heap trimming), so a relay that allocates and frees 64 KiB buffers at
/// line rate page-faults and zeroes fresh pages over and over: in a profile of the tunnel that
/// was 5-8% of each process's CPU, and these settings cut the CPU per byte by 10-15%. Memory
/// stays with the process once used, which for these long-lived processes is the high-water
/// mark of their buffers (a few MiB).
public enum ProcessMemory {
    /// Keeps freed memory in the process (call once, first thing in `main`).
    public static func keepFreedBuffers() {
        // mallopt is in <malloc.h>, which Swift's Glibc module does not import.
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1  // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 512 << 20)
    }
}
#endif
