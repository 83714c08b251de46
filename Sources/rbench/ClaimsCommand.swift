import ArgumentParser
import Claims
import Evidence
import Foundation
import Harness

struct ClaimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims", abstract: "List the claims this build ships: id, title, source paper, controls.",
        discussion: """
        `rbench explain ID` prints one claim in full: what it measures, its pass criteria, \
        its controls and the numbers its paper reported.

        Examples:
          rbench claims
          rbench claims --json | jq '.[].id'
        """)

    @Flag(help: "Print a JSON array instead of the table.")
    var json = false

    func run() throws {
        let claims = ClaimCatalog.all
        if json {
            struct Entry: Encodable {
                var id, title, source: String
                var controls: [String]
                var summary: String?
                var criteria: [CriterionDefinition]
            }
            let entries = claims.map { Entry(id: $0.id, title: $0.title, source: $0.source, controls: $0.controls,
                                             summary: $0.summary, criteria: $0.criteria) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            StandardStreams.writeOutput(try encoder.encode(entries))
            print()
            return
        }
        let header = ["id", "title", "source", "controls"]
        let rows = claims.map { [$0.id, $0.title, $0.source, $0.controls.joined(separator: ", ")] }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
    }
}
