import Foundation
import Recording
import Profiling

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

/// The least time a run's forward passes can take on this machine's arithmetic: its forward tokens
/// times the engine's linear-layer FLOPs per token, at the sgemm rate measured in the same process.
///
/// The engine runs its block matrices as Float32 GEMMs, so no schedule of the same arithmetic beats
/// sgemm's rate; attention, norms and the LM head are left out, which keeps this a lower bound.
/// `rbench bench --suite` prints it, so a wall-time target can be checked against what the suite's
/// token counts alone require before anyone tunes code for it.
public struct ForwardFloor: Sendable, Equatable {
    /// Tokens the run pushed forward (every check and subject, controls included).
    public var tokens: Int
    /// Linear-layer FLOPs per token (``Engine/LanguageModel/prefillFlopsPerToken(contextLength:)`` at context 0).
    public var flopsPerToken: Double
    /// The sgemm rate the bound assumes, GFLOP/s (the faster of the measurements around the run).
    public var sgemmGigaflops: Double
    /// The seconds the run's forward passes actually took.
    public var measuredSeconds: Double

    public init(tokens: Int, flopsPerToken: Double, sgemmGigaflops: Double, measuredSeconds: Double) {
        self.tokens = tokens
        self.flopsPerToken = flopsPerToken
        self.sgemmGigaflops = sgemmGigaflops
        self.measuredSeconds = measuredSeconds
    }

    /// The forward tokens and seconds recorded in `run`'s per-check profiles.
    public init(run: RunRecord, flopsPerToken: Double, sgemmGigaflops: Double) {
        var tokens = 0, seconds = 0.0
        for result in run.results {
            tokens += result.profile?.work[Phase.forward.rawValue] ?? 0
            seconds += result.profile?.seconds[Phase.forward.rawValue] ?? 0
        }
        self.init(tokens: tokens, flopsPerToken: flopsPerToken, sgemmGigaflops: sgemmGigaflops, measuredSeconds: seconds)
    }

    /// tokens × FLOPs per token ÷ sgemm rate: the forward passes cannot take less (0 without a rate).
    public var seconds: Double {
        sgemmGigaflops > 0 ? Double(tokens) * flopsPerToken / (sgemmGigaflops * 1e9) : 0
    }

    /// How close the measured forward passes came to the bound (1 = at the sgemm rate).
    public var efficiency: Double? {
        measuredSeconds > 0 && seconds > 0 ? seconds / measuredSeconds : nil
    }
}
