import ArgumentParser
import Foundation
import Recording

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "One row per revision (latest complete run there), oldest first.",
        discussion: """
        Values of runs that are not comparable — another model, corpus, suite definition or \
        determinism class — are never joined: each such group is printed as its own series, \
        with a line saying what differs from the first series. A metric no complete run \
        recorded is a usage error (64); the database is only read, never created (65 if missing).

        Examples:
          rbench history TD-1/model:R --suite smoke
          rbench history "TD-3/random-init:acceleration_ratio"
          rbench history "TD-1/model:med_r[3]" --json
        """)

    @Argument(help: "A metric key (`name` or `name[layer]`), optionally `CHECK:METRIC`, e.g. `TD-1/model:corr[3]`.")
    var metric: String

    @Option(help: "Only runs of this suite.")
    var suite: String?

    @Flag(help: "Print a JSON array of series (each with its points and what sets it apart) instead of the table.")
    var json = false

    @OptionGroup var store: StoreOptions

    /// Points that may be joined: one check, one comparable group of runs.
    struct Series: Encodable {
        var check: String
        var comparability: HistoryPoint.Comparability
        /// Why this series is not joined to the first one of its check (empty for the first).
        var differsIn: [String]
        var points: [HistoryPoint]
    }

    func run() throws {
        try withExitCodes {
            let points = try store.openForReading().history(metric: metric, suite: suite)
            guard !points.isEmpty else {
                throw RecordingError.notFound("no complete run\(suite.map { " of suite \($0)" } ?? "") in \(store.db) recorded metric \(metric); `rbench runs` lists the runs and `rbench explain CLAIM` the metric names")
            }
            let series = Self.series(points)
            if json {
                try printJSON(series)
                return
            }
            for (index, entry) in series.enumerated() {
                if series.count > 1 {
                    let why = entry.differsIn.isEmpty ? "" : " — not joined: differs in \(entry.differsIn.joined(separator: ", "))"
                    print("\(index > 0 ? "\n" : "")series \(index + 1): \(entry.check), model \(entry.comparability.modelSHA256.prefix(12))\(why)")
                }
                for point in entry.points {
                    let commit = point.commitSHA.map { String($0.prefix(12)) + (point.isDirty ? "+dirty" : "") } ?? "no-commit"
                    print("\(commit)  \(point.check)  \(point.value)  run \(point.runID)")
                }
            }
        }
    }

    /// Groups points by check and comparability, in order of first appearance.
    static func series(_ points: [HistoryPoint]) -> [Series] {
        var result: [Series] = []
        for point in points {
            if let index = result.firstIndex(where: { $0.check == point.check && $0.comparability == point.comparability }) {
                result[index].points.append(point)
            } else {
                let first = result.first { $0.check == point.check }
                result.append(Series(check: point.check, comparability: point.comparability,
                                     differsIn: first.map { point.comparability.differences(from: $0.comparability) } ?? [],
                                     points: [point]))
            }
        }
        return result
    }
}
