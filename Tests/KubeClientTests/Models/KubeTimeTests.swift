import TestSupport
import Foundation
import KubeClient
import Testing

@Suite struct KubeTimeTests {
    private struct Holder<T: Codable & Equatable>: Codable, Equatable {
        var time: T
    }

    @Test func secondPrecisionRoundTripsByteForByte() throws {
        let json = #"{"time":"2024-05-01T12:34:56Z"}"#
        let holder = try decode(Holder<KubeTime>.self, json)
        #expect(holder.time.secondsSince1970 == 1_714_566_896)
        #expect(try encodeToString(holder) == json)
    }

    @Test func kubeTimeAcceptsAFractionAndPrintsWholeSeconds() throws {
        let holder = try decode(Holder<KubeTime>.self, #"{"time":"2024-05-01T12:34:56.987654Z"}"#)
        #expect(holder.time.secondsSince1970 == 1_714_566_896)
        #expect(try encodeToString(holder) == #"{"time":"2024-05-01T12:34:56Z"}"#)
    }

    @Test func microTimeRoundTripsByteForByte() throws {
        let json = #"{"time":"2024-05-01T12:34:56.000123Z"}"#
        let holder = try decode(Holder<KubeMicroTime>.self, json)
        #expect(holder.time.secondsSince1970 == 1_714_566_896)
        #expect(holder.time.microseconds == 123)
        #expect(try encodeToString(holder) == json)
    }

    @Test func microTimeAcceptsSecondsAndPrintsSixDigits() throws {
        let holder = try decode(Holder<KubeMicroTime>.self, #"{"time":"2024-05-01T12:34:56Z"}"#)
        #expect(try encodeToString(holder) == #"{"time":"2024-05-01T12:34:56.000000Z"}"#)
        let nanos = try decode(Holder<KubeMicroTime>.self, #"{"time":"2024-05-01T12:34:56.123456789Z"}"#)
        #expect(nanos.time.rfc3339 == "2024-05-01T12:34:56.123456Z")
        let short = try decode(Holder<KubeMicroTime>.self, #"{"time":"2024-05-01T12:34:56.5Z"}"#)
        #expect(short.time.microseconds == 500_000)
    }

    @Test func offsetsAreConvertedToUTC() throws {
        #expect(KubeTime(rfc3339: "2024-05-01T14:34:56+02:00")?.rfc3339 == "2024-05-01T12:34:56Z")
        #expect(KubeTime(rfc3339: "2024-05-01T00:30:00-01:00")?.rfc3339 == "2024-05-01T01:30:00Z")
        #expect(KubeTime(rfc3339: "2024-05-01t12:34:56z")?.rfc3339 == "2024-05-01T12:34:56Z")
    }

    @Test(arguments: [
        "", "2024-05-01", "2024-05-01T12:34:56", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2024-05-01T24:00:00Z", "2024-05-01T12:34:56.Z", "2024-05-01T12:34:56Zjunk", "2024-5-1T12:34:56Z",
        "1714566896",
    ])
    func rejectsTextThatIsNotRFC3339(_ text: String) throws {
        #expect(KubeTime(rfc3339: text) == nil)
        #expect(KubeMicroTime(rfc3339: text) == nil)
        #expect(throws: DecodingError.self) {
            try decode(Holder<KubeTime>.self, #"{"time":"\#(text)"}"#)
        }
    }

    @Test func calendarEdgesMatchFoundation() throws {
        for text in [
            "1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2000-03-01T00:00:00Z", "1969-12-31T23:59:59Z",
            "1600-02-29T00:00:00Z", "9999-12-31T23:59:59Z", "2100-02-28T12:00:00Z",
        ] {
            let time = try #require(KubeTime(rfc3339: text))
            #expect(time.rfc3339 == text)
            let formatter = ISO8601DateFormatter()
            #expect(time.date == formatter.date(from: text), "\(text)")
        }
    }

    @Test func goZeroTimeAndTheLastSecondOfYear9999() {
        // Foundation switches to the Julian calendar before 1582; Go and Kubernetes do not.
        #expect(KubeTime(rfc3339: "0001-01-01T00:00:00Z")?.secondsSince1970 == -62_135_596_800)
        #expect(KubeTime(secondsSince1970: -62_135_596_800).rfc3339 == "0001-01-01T00:00:00Z")
        #expect(KubeTime(rfc3339: "9999-12-31T23:59:59Z")?.secondsSince1970 == 253_402_300_799)
    }

    @Test func everySecondOverCenturiesRoundTrips() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            let seconds = Int64.random(in: -62_135_596_800...253_402_300_799, using: &random)
            let micros = Int32.random(in: 0..<1_000_000, using: &random)
            let time = KubeMicroTime(secondsSince1970: seconds, microseconds: micros)
            #expect(KubeMicroTime(rfc3339: time.rfc3339) == time, "\(time.rfc3339)")
            let whole = KubeTime(secondsSince1970: seconds)
            #expect(KubeTime(rfc3339: whole.rfc3339) == whole, "\(whole.rfc3339)")
        }
    }

    @Test func convertsToAndFromDate() {
        let date = Date(timeIntervalSince1970: 1_714_566_896.654321)
        #expect(KubeTime(date).secondsSince1970 == 1_714_566_896)
        #expect(KubeTime(date).date == Date(timeIntervalSince1970: 1_714_566_896))
        let micro = KubeMicroTime(date)
        #expect(micro.secondsSince1970 == 1_714_566_896)
        #expect(abs(Int(micro.microseconds) - 654_321) <= 1)
        #expect(abs(micro.date.timeIntervalSince(date)) < 0.000_002)
        #expect(KubeTime(Date(timeIntervalSince1970: -0.5)).secondsSince1970 == -1)
    }

    @Test func ordersByTime() throws {
        let earlier = try #require(KubeMicroTime(rfc3339: "2024-05-01T12:34:56.000001Z"))
        let later = try #require(KubeMicroTime(rfc3339: "2024-05-01T12:34:56.000002Z"))
        #expect(earlier < later)
        #expect(KubeTime(secondsSince1970: 1) < KubeTime(secondsSince1970: 2))
    }
}
