import Testing
@testable import NetStack

@Suite struct InternetChecksumTests {
    @Test func matchesTheByteWiseDefinitionAtAnyLengthAndAlignment() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<300 {
            for misalignment in 0..<3 {
                let storage = (0..<(length + misalignment)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let bytes = Array(storage[misalignment...])
                let fast = storage.withUnsafeBytes { raw in
                    InternetChecksum.finish(InternetChecksum.add(UnsafeRawBufferPointer(rebasing: raw[misalignment...])))
                }
                let fastBytes = withUnsafeBytes(of: fast) { Array($0) }  // memory order = wire order
                let naive = PacketFactory.naiveChecksum(bytes)
                #expect(fastBytes == [UInt8(naive >> 8), UInt8(naive & 0xff)], "length \(length)")
            }
        }
    }

    @Test func partsOfEvenLengthAddUpToTheWhole() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        bytes.withUnsafeBytes { raw in
            let whole = InternetChecksum.fold(InternetChecksum.add(raw))
            let first = InternetChecksum.add(UnsafeRawBufferPointer(rebasing: raw[0..<334]))
            let both = InternetChecksum.add(UnsafeRawBufferPointer(rebasing: raw[334...]), to: first)
            #expect(InternetChecksum.fold(both) == whole)
        }
    }

    @Test func allOnesDataFoldsWithoutOverflow() {
        let bytes = [UInt8](repeating: 0xff, count: 65535)
        let fast = bytes.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.add($0)) }
        let wire = withUnsafeBytes(of: fast) { UInt16($0[0]) << 8 | UInt16($0[1]) }
        #expect(wire == PacketFactory.naiveChecksum(bytes))
    }
}
