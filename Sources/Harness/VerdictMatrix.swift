import Evidence
import Foundation
import Recording

/// The claim × model table: for one suite, the latest complete run of each model (by hash) and
/// engine, side by side — the "validate the claims on a new model" view, and, with `--engine`, the
/// "does another engine keep the claims" view: the same model run natively and through
/// transformers gets two columns.
public enum VerdictMatrix {
    /// What a column stands for: a model hash and the engine that ran it (nil: the native engine).
    static func columnKey(_ run: RunRecord) -> String {
        run.modelSHA256 + "|" + (run.environment.engine?.determinismKey ?? "native")
    }

    /// Latest complete run per model hash and engine of `suite`, oldest first.
    public static func latestRunsPerModel(store: ResultStore, suite: String, limit: Int = 500) throws -> [RunRecord] {
        var runs: [RunRecord] = []
        for summary in try store.runs(limit: limit) where summary.suite == suite && summary.status == .complete {
            runs.append(try store.loadRun(id: summary.id))
        }
        return latestPerColumn(newestFirst: runs)
    }

    /// The first run of each column in `newestFirst`, returned oldest first.
    static func latestPerColumn(newestFirst runs: [RunRecord]) -> [RunRecord] {
        var seen: Set<String> = []
        var kept: [RunRecord] = []
        for run in runs where seen.insert(columnKey(run)).inserted { kept.append(run) }
        return kept.reversed()
    }

    /// A column's heading: the model file and hash, and the engine when it is not the native one.
    static func columnName(_ run: RunRecord) -> String {
        let file = run.artifacts.first { $0.role == "model" }.map { URL(fileURLWithPath: $0.path).lastPathComponent } ?? "model"
        let engine = run.environment.engine.map { " via \($0.name) on \($0.device)" } ?? ""
        return "\(file) (\(run.modelSHA256.prefix(8)))\(engine)"
    }

    /// The criterion a verdict rests on: the first failed, else the first undecided, else the first.
    public static func keyCriterion(_ result: ResultRecord) -> Criterion? {
        result.criteria.first { $0.outcome == .failed } ?? result.criteria.first { $0.outcome == .undecided } ?? result.criteria.first
    }

    /// Whether the same claim and subject came out with another verdict on another text source in the
    /// same run: `TD-1/model` against `TD-1@walden/model` (the robustness suite runs both).
    public static func corpusDependent(_ run: RunRecord, _ check: String) -> Bool {
        guard let result = run.results.first(where: { $0.check == check }) else { return false }
        let base = result.claimID.split(separator: "@").first.map(String.init) ?? result.claimID
        let verdicts = Set(run.results.filter { ($0.claimID == base || $0.claimID.hasPrefix(base + "@")) && $0.subject == result.subject }
            .map(\.verdict))
        return verdicts.count > 1
    }

    /// The checks whose verdict differs between text sources, each with its verdict per source.
    public static func corpusDependence(_ run: RunRecord) -> [(check: String, verdicts: [(claim: String, verdict: Verdict)])] {
        var seen: Set<String> = []
        var result: [(String, [(String, Verdict)])] = []
        for record in run.results {
            let base = record.claimID.split(separator: "@").first.map(String.init) ?? record.claimID
            let key = base + "/" + record.subject
            guard !seen.contains(key), corpusDependent(run, record.check) else { continue }
            seen.insert(key)
            let members = run.results.filter { ($0.claimID == base || $0.claimID.hasPrefix(base + "@")) && $0.subject == record.subject }
            result.append((key, members.map { ($0.claimID, $0.verdict) }))
        }
        return result
    }

    /// A text table: one row per check (claim/subject), one column per model and engine.
    public static func table(_ runs: [RunRecord]) -> String {
        guard !runs.isEmpty else { return "no complete runs\n" }
        let names = runs.map(columnName)
        var checks: [String] = []
        for run in runs { for result in run.results where !checks.contains(result.check) { checks.append(result.check) } }
        func cell(_ run: RunRecord, _ check: String) -> String {
            guard let result = run.results.first(where: { $0.check == check }) else { return "—" }
            var text = result.verdict.rawValue
            if let expected = result.expectedVerdict, expected != result.verdict { text += " (expected \(expected.rawValue))" }
            if let key = keyCriterion(result) { text += " · \(key.statistic) \(key.observedWithInterval)" }
            if corpusDependent(run, check) { text += " · corpus-dependent" }
            return text
        }
        let rows = [["check"] + names] + checks.map { check in [check] + runs.map { cell($0, check) } }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
