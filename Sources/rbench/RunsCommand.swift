import ArgumentParser
import Foundation
import Recording

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recorded runs, newest first.")

    @Option(help: "How many runs to list.")
    var limit = 50

    @OptionGroup var store: StoreOptions

    func run() throws {
        try withExitCodes {
            let formatter = ISO8601DateFormatter()
            for summary in try store.openStore().runs(limit: limit) {
                let commit = summary.commitSHA.map { String($0.prefix(12)) + (summary.isDirty ? "+dirty" : "") } ?? "no-commit"
                print([summary.id, summary.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                       formatter.string(from: Date(timeIntervalSince1970: summary.startedAt)), summary.suite, commit,
                       "class \(summary.determinismClass)", "\(summary.resultCount) results"].joined(separator: "  "))
            }
        }
    }
}
