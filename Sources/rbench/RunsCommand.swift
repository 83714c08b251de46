import ArgumentParser
import Foundation
import Recording

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List recorded runs, newest first.",
        discussion: """
        One line per run: id, status (running, complete, failed, aborted), start time (UTC), \
        suite, commit (+dirty for uncommitted changes), determinism class and result count. \
        Any listed id (or a unique prefix) works as RUN in check, compare and report.

        Examples:
          rbench runs
          rbench runs --limit 5 --db /tmp/mine.sqlite
          rbench runs --json | jq '.[0].id'
        """)

    @Option(help: "How many runs to list.")
    var limit = 50

    @Flag(help: "Print a JSON array instead of the table.")
    var json = false

    @OptionGroup var store: StoreOptions

    func run() throws {
        try withExitCodes {
            let formatter = ISO8601DateFormatter()
            let summaries = try store.openStore().runs(limit: limit)
            if json {
                struct Entry: Encodable {
                    var id, status, startedAt, suite: String
                    var commit: String?
                    var dirty: Bool
                    var determinismClass: String
                    var results: Int
                }
                try printJSON(summaries.map {
                    Entry(id: $0.id, status: $0.status.rawValue, startedAt: formatter.string(from: Date(timeIntervalSince1970: $0.startedAt)),
                          suite: $0.suite, commit: $0.commitSHA, dirty: $0.isDirty, determinismClass: $0.determinismClass,
                          results: $0.resultCount)
                })
                return
            }
            if summaries.isEmpty { printError("no runs recorded in \(store.db); `rbench run --suite smoke` makes one") }
            for summary in summaries {
                let commit = summary.commitSHA.map { String($0.prefix(12)) + (summary.isDirty ? "+dirty" : "") } ?? "no-commit"
                print([summary.id, summary.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                       formatter.string(from: Date(timeIntervalSince1970: summary.startedAt)), summary.suite, commit,
                       "class \(summary.determinismClass)", "\(summary.resultCount) results"].joined(separator: "  "))
            }
        }
    }
}
