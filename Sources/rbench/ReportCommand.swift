import ArgumentParser
import Foundation
import Harness
import Recording

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report (with SVG charts) of recorded runs (default: the latest complete run).",
        discussion: """
        Writes OUT/index.html and every chart as OUT/<figure>.svg. With several runs, each goes \
        to OUT/<run-id-prefix>/ and OUT/index.html links them. The page needs no network and \
        opens from disk.

        Examples:
          rbench report --out results/report
          rbench report --out results/report --history     # add every metric across revisions
          rbench report 3f2a 9c1e --out /tmp/two-runs
        """)

    @Argument(help: "Run ids (or prefixes) or commit shas (prefixes).")
    var runReferences: [String] = []

    @Option(help: "The folder to write the report into.")
    var out: String

    @Flag(help: "Add every scalar metric across revisions (runs of the same suite in the database).")
    var history = false

    @OptionGroup var store: StoreOptions

    func run() throws {
        try withExitCodes {
            let results = try store.openForReading()
            let ids = try runReferences.isEmpty ? [results.resolveRun(nil)] : runReferences.map { try results.resolveRun($0) }
            let outURL = URL(fileURLWithPath: out)
            var allRuns: [RunRecord]?
            var written: [(run: RunRecord, page: URL)] = []
            for id in ids {
                let record = try results.loadRun(id: id)
                let baseline = try Comparator.baseline(for: record, in: store.baselinesURL)
                let verdicts = record.status == .complete ? Comparator.compare(run: record, baseline: baseline) : []
                if history && allRuns == nil {
                    allRuns = try results.runs(limit: 100_000).filter { $0.status == .complete }.map { try results.loadRun(id: $0.id) }
                }
                let report = HTMLReport.render(run: record, verdicts: verdicts,
                                               history: history ? allRuns?.filter { $0.suite == record.suite } : nil,
                                               baseline: baseline?.file,
                                               notices: Self.notices(try results.summary(ofRun: id)))
                let directory = ids.count == 1 ? outURL : outURL.appendingPathComponent(String(id.prefix(8)))
                written.append((record, try report.write(to: directory)))
                print("wrote \(directory.appendingPathComponent("index.html").path) (\(report.charts.count) charts)")
            }
            if ids.count > 1 { try writeIndex(written, to: outURL) }
        }
    }

    /// What the page must say before anything else about how the run was recorded.
    static func notices(_ summary: RunSummary?) -> [String] {
        guard let summary else { return [] }
        var notices: [String] = []
        if summary.verdictsMissing {
            notices.append("This run was recorded complete, but its verdicts were never stored (the process died after recording, its baseline could not be read, or it was imported from a run file). The comparison below is computed now, by this report.")
        }
        if summary.isStale {
            notices.append("Stale run: recorded as running, but its process is gone; it will never complete, and the next `rbench run` marks it aborted. Nothing was judged.")
        }
        return notices
    }

    func writeIndex(_ pages: [(run: RunRecord, page: URL)], to directory: URL) throws {
        let items = pages.map { entry in
            let commit = entry.run.revision.commitSHA.map { String($0.prefix(7)) } ?? "no commit"
            return "<li><a href=\"\(String(entry.run.id.prefix(8)))/index.html\">\(entry.run.suite) · \(commit)\(entry.run.revision.isDirty ? "+dirty" : "") · \(entry.run.id)</a></li>"
        }.joined(separator: "\n")
        let html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">
            <title>rbench reports</title></head><body style="font-family:system-ui,sans-serif"><h1>rbench reports</h1><ul>
            \(items)
            </ul></body></html>
            """
        do { try html.write(to: directory.appendingPathComponent("index.html"), atomically: true, encoding: .utf8) } catch {
            throw HarnessError.badInput("cannot write \(directory.path)/index.html: \(error.localizedDescription)")
        }
    }
}
