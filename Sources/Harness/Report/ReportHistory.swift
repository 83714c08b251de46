import Foundation
import Recording

/// Scalar metrics across revisions, one line per subject and comparable group of runs.
///
/// Runs are comparable only with the same model hash, corpus hashes, suite hash and determinism class;
/// other runs go to a separate series and the caption says which of these differ.
enum ReportHistory {
    /// What must be equal for two runs' values to sit on one line (shared with `rbench history`).
    typealias Comparability = HistoryPoint.Comparability

    /// A revision: a commit, or a commit plus uncommitted changes.
    struct Revision: Hashable, Sendable {
        var key: String
        var label: String
        var order: (Int64, Double)

        static func == (lhs: Revision, rhs: Revision) -> Bool { lhs.key == rhs.key }
        func hash(into hasher: inout Hasher) { hasher.combine(key) }
    }

    static func revision(of run: RunRecord) -> Revision {
        let info = run.revision
        let sha = info.commitSHA.map { String($0.prefix(7)) } ?? "no-commit"
        let key = "\(info.commitSHA ?? "none"):\(info.isDirty ? (info.dirtyDiffSHA256 ?? "dirty") : "clean")"
        let date = Date(timeIntervalSince1970: info.commitTime.map(Double.init) ?? run.startedAt)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MM-dd HH:mm"
        return Revision(key: key, label: "\(sha)\(info.isDirty ? "+" : "")\n\(formatter.string(from: date))",
                        order: (info.commitTime ?? 0, run.startedAt))
    }

    /// History figures for every scalar metric of the claims in `current`, from `runs` of the same suite.
    static func figures(current: RunRecord, runs: [RunRecord], baseline: BaselineFile?) -> [ReportFigure] {
        var candidates = runs.filter { $0.status == .complete && $0.suite == current.suite && $0.id != current.id }
        candidates.append(current)

        // Revisions in commit order; within a revision and group, the latest run wins.
        var firstSeen: [String: Revision] = [:]
        for run in candidates.sorted(by: { $0.startedAt < $1.startedAt }) {
            let revision = revision(of: run)
            if firstSeen[revision.key] == nil { firstSeen[revision.key] = revision }
        }
        let revisions = firstSeen.values.sorted { $0.order < $1.order }
        let position = Dictionary(uniqueKeysWithValues: revisions.enumerated().map { ($1.key, $0) })
        var groups: [Comparability] = [Comparability(current)]
        var latest: [String: RunRecord] = [:]
        for run in candidates.sorted(by: { $0.startedAt < $1.startedAt }) {
            let group = Comparability(run)
            if !groups.contains(group) { groups.append(group) }
            latest["\(revision(of: run).key)|\(groups.firstIndex(of: group)!)"] = run
        }
        let chosen = latest.map { key, run in (group: Int(key.split(separator: "|").last!)!, run: run) }

        var splitNote = ""
        if groups.count > 1 {
            let reasons = groups.dropFirst().enumerated().map { index, group in
                "series \(index + 2) differs in \(group.differences(from: groups[0]).joined(separator: ", "))"
            }
            splitNote = " Runs are split into \(groups.count) series that are never joined: \(reasons.joined(separator: "; "))."
        }

        var figures: [ReportFigure] = []
        let claims = current.results.map(\.claimID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for claim in claims {
            let claimResults = current.results.filter { $0.claimID == claim }
            let subjects = ClaimFigures.orderedSubjects(claimResults)
            let names = claimResults.flatMap(\.metrics).filter { $0.layer == nil }.map(\.name)
                .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            for name in names {
                var series: [ChartSeries] = []
                for (groupIndex, _) in groups.enumerated() {
                    for subject in subjects {
                        let points = chosen.filter { $0.group == groupIndex }.compactMap { entry -> (x: Double, y: Double)? in
                            guard let result = entry.run.results.first(where: { $0.claimID == claim && $0.subject == subject }),
                                  let value = ClaimFigures.scalar(result, name) else { return nil }
                            return (x: Double(position[revision(of: entry.run).key]!), y: value)
                        }.sorted { $0.x < $1.x }
                        guard !points.isEmpty else { continue }
                        series.append(ChartSeries(label: groups.count > 1 ? "\(subject) · series \(groupIndex + 1)" : subject,
                                                  points: points, colorSlot: ClaimFigures.slot(of: subject, in: subjects),
                                                  dashed: groupIndex > 0, emphasized: subject == "model"))
                    }
                }
                var references: [ChartReference] = []
                var baselineNote = " No baseline value."
                if let entry = baseline?.entry(check: "\(claim)/model", metric: name) {
                    let bound = max(entry.tolerance.abs, entry.tolerance.rel * abs(entry.value))
                    references.append(ChartReference(label: "baseline (model)", low: entry.value, high: entry.value, colorSlot: 0))
                    if bound > 0 {
                        references.append(ChartReference(label: "tolerance ±\(LineChart.tickLabel(bound))",
                                                         low: entry.value - bound, high: entry.value + bound, colorSlot: 0))
                    }
                    baselineNote = " Dotted: the model's baseline value\(bound > 0 ? ", shaded: its tolerance" : " (bitwise, no tolerance)")."
                }
                let unit = ClaimFigures.unit(claimResults, name)
                let chart = LineChart(title: "\(claim): \(name) across revisions", xLabel: "revision (commit, UTC date)",
                                      yLabel: ClaimFigures.axisLabel(name, unit: unit), series: series,
                                      references: references, xCategories: revisions.map(\.label))
                figures.append(ReportFigure(id: ClaimFigures.figureID(claim, "history-\(name)"),
                                            caption: "\(name) of the latest complete \(current.suite) run at each revision (+: uncommitted changes).\(baselineNote)\(splitNote)",
                                            chart: chart))
            }
        }
        return figures
    }
}
