import NIOCore

/// Splits a byte stream into newline-terminated lines, whatever the chunk boundaries: the
/// framing of watch events (one JSON document per line) and of followed logs. No I/O.
struct LineSplitter {
    private var partial = ByteBuffer()
    /// A line longer than this is a broken stream, not something to buffer forever.
    let maxLineLength: Int

    init(maxLineLength: Int = 64 << 20) {
        self.maxLineLength = maxLineLength
    }

    /// Appends a chunk and returns the lines it completed, without `\n` (and without a `\r`
    /// before it).
    mutating func append(_ chunk: ByteBuffer) -> [ByteBuffer] {
        var chunk = chunk
        var lines: [ByteBuffer] = []
        while let newline = chunk.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - chunk.readerIndex
            var piece = chunk.readSlice(length: length)!
            chunk.moveReaderIndex(forwardBy: 1)
            if partial.readableBytes > 0 {
                partial.writeBuffer(&piece)
                piece = partial
                partial = ByteBuffer()
            }
            if piece.readableBytesView.last == UInt8(ascii: "\r") {
                piece.moveWriterIndex(to: piece.writerIndex - 1)
            }
            lines.append(piece)
        }
        if chunk.readableBytes > 0 { partial.writeBuffer(&chunk) }
        return lines
    }

    /// True when the unterminated rest exceeds `maxLineLength`.
    var overflowed: Bool { partial.readableBytes > maxLineLength }

    /// The unterminated rest at the end of the stream, if any.
    mutating func finish() -> ByteBuffer? {
        defer { partial = ByteBuffer() }
        return partial.readableBytes > 0 ? partial : nil
    }
}
