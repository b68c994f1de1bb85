import ArgumentParser
import Foundation
import Yams

/// `--output json|yaml`: data for scripts instead of text for people.
struct OutputFlags: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case `default`, json, yaml
    }

    @Option(name: .shortAndLong, help: "Print the result as json or yaml instead of text.")
    var output: Format = .default

    func print<T: Encodable>(_ value: T, text: () -> TextTable) throws {
        switch output {
        case .default:
            Swift.print(text().rendered, terminator: "")
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
        case .yaml:
            Swift.print(try YAMLEncoder().encode(value), terminator: "")
        }
    }
}

/// Left-aligned columns separated by three spaces, as kubectl prints them.
struct TextTable {
    var header: [String]?
    var rows: [[String]]

    var rendered: String {
        let all = (header.map { [$0] } ?? []) + rows
        guard let columns = all.map(\.count).max(), columns > 0 else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
