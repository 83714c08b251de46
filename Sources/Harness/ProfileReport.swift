import Foundation
import Recording

/// `rbench run --profile`: where each check's time went, and the run's totals per phase.
public enum ProfileReport {
    public static func table(_ run: RunRecord) -> String {
        let header = ["check", "wall s", "forward s", "tokens", "tok/s", "resume s", "rows", "readout s", "resampling s", "statistics s"]
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "—" }
        var totals: [String: Double] = [:], work: [String: Int] = [:]
        var wall = 0.0
        var rows: [[String]] = []
        for result in run.results {
            let profile = result.profile
            let duration = Double(result.durationNS) / 1e9
            wall += duration
            for (phase, value) in profile?.seconds ?? [:] { totals[phase, default: 0] += value }
            for (phase, value) in profile?.work ?? [:] { work[phase, default: 0] += value }
            rows.append([result.check, seconds(duration), seconds(profile?.seconds["forward"]),
                         profile.map { String($0.work["forward"] ?? 0) } ?? "—",
                         profile?.forwardRate.map { String(format: "%.0f", $0) } ?? "—",
                         seconds(profile?.seconds["resume"]), profile.map { String($0.work["resume"] ?? 0) } ?? "—",
                         seconds(profile?.seconds["readout"]), seconds(profile?.seconds["resampling"]),
                         seconds(profile?.seconds["statistics"])])
        }
        let forwardRate = (totals["forward"] ?? 0) > 0 ? String(format: "%.0f", Double(work["forward"] ?? 0) / totals["forward"]!) : "—"
        rows.append(["total", seconds(wall), seconds(totals["forward"]), String(work["forward"] ?? 0), forwardRate,
                     seconds(totals["resume"]), String(work["resume"] ?? 0), seconds(totals["readout"]),
                     seconds(totals["resampling"]), seconds(totals["statistics"])])
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
