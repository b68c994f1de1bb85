import CZlib

/// One direction's header-compression context: a single zlib deflate stream primed with the
/// SPDY/3 dictionary, flushed with Z_SYNC_FLUSH after each header block so the peer can
/// inflate each block as it arrives while the window carries over between blocks.
final class SPDYDeflater {
    // zlib keeps a back pointer to the z_stream, so it lives at a fixed heap address.
    private let stream: UnsafeMutablePointer<z_stream>

    init() throws(SPDYError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw .compression("deflateInit2 returned \(status)")
        }
        let dict = SPDYDictionary.bytes
        let dictStatus = dict.withUnsafeBufferPointer { deflateSetDictionary(stream, $0.baseAddress, uInt($0.count)) }
        guard dictStatus == Z_OK else {
            deflateEnd(stream)
            stream.deallocate()
            throw .compression("deflateSetDictionary returned \(dictStatus)")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `input` and sync-flushes, returning every output byte for this block.
    func compress(_ input: [UInt8]) throws(SPDYError) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(256, input.count + 64))
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = uInt(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = uInt(outBuf.count)
                    status = deflate(stream, Z_SYNC_FLUSH)
                    output.append(contentsOf: outBuf[0..<(outBuf.count - Int(stream.pointee.avail_out))])
                }
                // A full output buffer means zlib may hold more flushed bytes.
            } while status == Z_OK && stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        guard status == Z_OK || status == Z_BUF_ERROR else { throw .compression("deflate returned \(status)") }
        return output
    }
}

/// The receiving side of one direction's header compression. Once it fails, it stays failed:
/// later blocks depend on the lost window.
final class SPDYInflater {
    private let stream: UnsafeMutablePointer<z_stream>

    init() throws(SPDYError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw .compression("inflateInit returned \(status)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates one header block; never produces more than `limit` bytes.
    func decompress(_ input: ArraySlice<UInt8>, limit: Int) throws(SPDYError) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var failure: SPDYError?
        var input = Array(input)
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = uInt(inBuf.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
            }
            while true {
                var status: Int32 = Z_OK
                var overflow = false
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = uInt(outBuf.count)
                    status = inflate(stream, Z_SYNC_FLUSH)
                    let produced = outBuf.count - Int(stream.pointee.avail_out)
                    if output.count + produced > limit {
                        overflow = true
                    } else {
                        output.append(contentsOf: outBuf[0..<produced])
                    }
                }
                if overflow {
                    failure = .headerBlockTooLarge(limit: limit)
                    return
                }
                switch status {
                case Z_NEED_DICT:
                    let dict = SPDYDictionary.bytes
                    let dictStatus = dict.withUnsafeBufferPointer {
                        inflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
                    }
                    if dictStatus != Z_OK {
                        failure = .invalidHeaderBlock("the block was not compressed with the SPDY/3 dictionary")
                        return
                    }
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
                case Z_BUF_ERROR:
                    // No progress possible: all input consumed (a complete sync-flushed block).
                    if stream.pointee.avail_in == 0 { return }
                    failure = .invalidHeaderBlock("zlib made no progress")
                    return
                case Z_STREAM_END:
                    failure = .invalidHeaderBlock("the peer ended its compression stream")
                    return
                default:
                    failure = .invalidHeaderBlock("inflate returned \(status)")
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
