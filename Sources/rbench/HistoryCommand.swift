import ArgumentParser
import Foundation
import Recording

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "One row per revision (latest complete run there), oldest first.")

    @Argument(help: "A metric key (`name` or `name[layer]`), optionally `CHECK:METRIC`, e.g. `TD-1/model:corr[3]`.")
    var metric: String

    @Option(help: "Only runs of this suite.")
    var suite: String?

    @OptionGroup var store: StoreOptions

    func run() throws {
        try withExitCodes {
            let points = try store.openStore().history(metric: metric, suite: suite)
            if points.isEmpty { printError("no complete run recorded metric \(metric)") }
            for point in points {
                let commit = point.commitSHA.map { String($0.prefix(12)) + (point.isDirty ? "+dirty" : "") } ?? "no-commit"
                print("\(commit)  \(point.check)  \(point.value)  run \(point.runID)")
            }
        }
    }
}
