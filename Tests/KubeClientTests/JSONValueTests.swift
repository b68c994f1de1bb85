import Foundation
import KubeClient
import Testing

@Suite struct JSONValueTests {
    @Test func roundTripsEveryKindOfValue() throws {
        let text = #"{"a":null,"b":true,"c":3,"d":1.5,"e":"x","f":[1,"y"],"g":{"h":false}}"#
        let value = try JSONValue(data: Data(text.utf8))
        #expect(value["c"]?.intValue == 3)
        #expect(value["d"]?.doubleValue == 1.5)
        #expect(value["f"]?[1]?.stringValue == "y")
        #expect(value["a"]?.isNull == true)
        #expect(String(decoding: try value.data(), as: UTF8.self) == text)
    }

    @Test func booleansStayBooleansAndIntegersPrintWithoutFraction() throws {
        let value: JSONValue = ["replicas": 3, "paused": false]
        #expect(String(decoding: try value.data(), as: UTF8.self) == #"{"paused":false,"replicas":3}"#)
    }
}
