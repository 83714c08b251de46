import ArgumentParser
import Foundation
import Recording

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List recorded runs, newest first.",
        discussion: """
        One line per run: id, status (running, complete, failed, aborted, or stale: running but \
        its process is gone), start time (UTC), suite, commit (+dirty for uncommitted changes), \
        determinism class and result count, flagged NO VERDICTS when a complete run was never \
        judged. Any listed id (or a unique prefix) works as RUN in check, compare and report. \
        The database is only read; a missing one is an error (65), never created.

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

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1, not \(limit)") }
    }

    func run() throws {
        try withExitCodes {
            let formatter = ISO8601DateFormatter()
            let summaries = try store.openForReading().runs(limit: limit)
            if json {
                struct Entry: Encodable {
                    var id, status, startedAt, suite: String
                    var commit: String?
                    var dirty: Bool
                    var determinismClass: String
                    var results: Int
                    var verdicts: Int
                    /// Running in the database, but its process is gone.
                    var stale: Bool
                    /// Complete with results, but never judged.
                    var verdictsMissing: Bool
                }
                try printJSON(summaries.map {
                    Entry(id: $0.id, status: $0.status.rawValue, startedAt: formatter.string(from: Date(timeIntervalSince1970: $0.startedAt)),
                          suite: $0.suite, commit: $0.commitSHA, dirty: $0.isDirty, determinismClass: $0.determinismClass,
                          results: $0.resultCount, verdicts: $0.verdictCount, stale: $0.isStale, verdictsMissing: $0.verdictsMissing)
                })
                return
            }
            if summaries.isEmpty { printNote("no runs recorded in \(store.db) yet; `rbench run --suite smoke` makes one") }
            for summary in summaries {
                let commit = summary.commitSHA.map { String($0.prefix(12)) + (summary.isDirty ? "+dirty" : "") } ?? "no-commit"
                print([summary.id, summary.displayStatus.padding(toLength: 8, withPad: " ", startingAt: 0),
                       formatter.string(from: Date(timeIntervalSince1970: summary.startedAt)), summary.suite, commit,
                       "class \(summary.determinismClass)", "\(summary.resultCount) results"
                        + (summary.verdictsMissing ? "  NO VERDICTS" : "")].joined(separator: "  "))
            }
            var legends: [String] = []
            if summaries.contains(where: \.isStale) {
                legends.append("stale: recorded as running, but its process is gone (killed or crashed); it will never complete, and the next `rbench run` marks it aborted.")
            }
            if summaries.contains(where: \.verdictsMissing) {
                legends.append("NO VERDICTS: recorded complete but never judged in this database (killed after recording, baseline unreadable, or imported from a run file); `rbench check RUN` judges it.")
            }
            if !legends.isEmpty { print("\n" + legends.joined(separator: "\n")) }
        }
    }
}
