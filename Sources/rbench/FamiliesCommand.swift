import ArgumentParser
import Engine
import Foundation

struct FamiliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "families", abstract: "List the architecture families the engine runs and the features each uses.",
        discussion: """
        A GGUF file is run when its general.architecture names one of these families; any \
        other is refused before work starts, naming the architecture. Each family is one file \
        under Sources/Engine/Families and is proven against transformers on a tiny fixture \
        under Tests/Fixtures/families.

        Examples:
          rbench families
          rbench families --json
        """)

    @Flag(help: "Print a JSON array instead of the table.")
    var json = false

    struct Entry: Encodable {
        var architecture: String
        var features: [String]
    }

    func run() throws {
        let entries = ArchitectureFamily.known.map { Entry(architecture: $0.architecture.rawValue, features: $0.features) }
        if json {
            try printJSON(entries)
            return
        }
        print(textTable(header: ["architecture", "features"], rows: entries.map { [$0.architecture, $0.features.joined(separator: ", ")] }),
              terminator: "")
    }
}
