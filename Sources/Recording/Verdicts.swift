import Evidence
import Foundation

/// What a comparison concluded about one metric (recording.md §4–5).
public enum VerdictOutcome: String, Codable, Sendable, CaseIterable {
    case regress, changed, stale, missing, inconclusive, improve, acknowledged, pass
    /// The check was not computed because the run had states and no engine (``Verdict/needsEngine``):
    /// neither a finding nor a pass, and its baseline lines are not expected in the run.
    case skipped

    /// Worst first, for tables.
    public var severity: Int { Self.allCases.firstIndex(of: self)! }
}

/// Deterministic metrics are compared bit for bit (or within tolerance); stochastic ones statistically.
public enum Regime: String, Codable, Sendable {
    case deterministic, stochastic
}

/// One verdict with everything needed to re-derive it.
public struct MetricVerdict: Codable, Sendable, Equatable {
    public var check: String
    /// The metric key, or `(verdict)` for the claim-level verdict.
    public var metric: String
    public var regime: Regime
    public var outcome: VerdictOutcome
    /// A stable code, e.g. `BITWISE_EQUAL`, `CLAIM_FLIP`, `CONTROL_PASSED`, `NO_BASELINE`.
    public var reason: String
    public var detail: String
    /// `baseline_file`, `run` or `none`.
    public var referenceKind: String
    public var referenceID: String?
    /// `bitwise`, `tolerance`, `verdict`, `hl_mwu` or `none`.
    public var method: String
    public var observed: Double?
    public var reference: Double?
    public var delta: Double?
    public var relativeDelta: Double?
    public var ulpDistance: UInt64?
    public var pValue: Double?
    public var effect: Double?
    public var effectCILow: Double?
    public var effectCIHigh: Double?
    public var thresholds: [String: Double]
    public var headCount: Int?
    public var baseCount: Int?

    public init(check: String, metric: String, regime: Regime = .deterministic, outcome: VerdictOutcome, reason: String,
                detail: String = "", referenceKind: String = "none", referenceID: String? = nil, method: String = "none",
                observed: Double? = nil, reference: Double? = nil, thresholds: [String: Double] = [:]) {
        self.check = check
        self.metric = metric
        self.regime = regime
        self.outcome = outcome
        self.reason = reason
        self.detail = detail
        self.referenceKind = referenceKind
        self.referenceID = referenceID
        self.method = method
        self.observed = observed
        self.reference = reference
        self.thresholds = thresholds
        if let observed, let reference {
            delta = observed - reference
            relativeDelta = reference == 0 ? nil : (observed - reference) / Swift.abs(reference)
            ulpDistance = FloatBits.ulpDistance(observed, reference)
        }
    }
}

/// The name used for the claim-level (verdict layer) row of each result.
public let claimVerdictMetric = "(verdict)"

/// Settings of a comparison.
public struct ComparisonPolicy: Sendable {
    /// Practical margin δ for timings: a regression must exceed ln(1 + δ).
    public var timingMargin: Double
    /// Significance level for timings (Holm-corrected across the run's timing metrics).
    public var alpha: Double

    public init(timingMargin: Double = 0.05, alpha: Double = 0.01) {
        self.timingMargin = timingMargin
        self.alpha = alpha
    }
}

/// Which rule judged the deterministic metrics of a comparison; `check` and `compare` share it.
public struct ComparisonRegime: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Same determinism class: every metric must be bit-for-bit equal.
        case bitwise
        /// Another class: |Δ| ≤ max(abs, rel·|reference|) or within `ulp` ulps, per metric.
        case tolerance
        /// No baseline file for the suite: nothing was compared.
        case none
    }

    public var kind: Kind
    public var suite: String
    public var runClass: String
    public var referenceClass: String?
    /// The baseline file or `run <id>` compared against.
    public var reference: String?
    /// Where the cross-class tolerances come from (nil for bitwise and none).
    public var tolerances: String?

    /// One line for people: what was compared with what, and how.
    public var summary: String {
        switch kind {
        case .bitwise:
            "regime: bitwise — run and \(reference ?? "reference") share determinism class \(runClass)"
        case .tolerance:
            "regime: cross-class tolerance — run class \(runClass) vs \(referenceClass ?? "?") (\(reference ?? "reference")); "
                + "|Δ| ≤ max(abs, rel·|ref|) or ≤ ulp, \(tolerances ?? "per line")"
        case .none:
            "no baseline: nothing was compared; `rbench baseline init --suite \(suite)` writes a candidate from this run "
                + "(Baselines/claims/\(suite)/\(runClass).candidate.jsonl) to review and commit. Until then this exits 0; --strict makes it exit 4"
        }
    }

    /// The regime of judging `run` against `baseline` (as chosen by ``Comparator/baseline(for:in:)``).
    public static func of(run: RunRecord, baseline: (file: BaselineFile, path: String, sameClass: Bool)?) -> ComparisonRegime {
        let runClass = run.environment.determinismClass
        guard let baseline else { return ComparisonRegime(kind: .none, suite: run.suite, runClass: runClass) }
        return ComparisonRegime(kind: baseline.sameClass ? .bitwise : .tolerance, suite: run.suite, runClass: runClass,
                                referenceClass: baseline.file.header.determinismClass, reference: baseline.path,
                                tolerances: baseline.sameClass ? nil : "tolerances from the lines of \(baseline.path)")
    }

    /// The regime of ``Comparator/compare(head:base:tolerances:policy:)``.
    public static func of(head: RunRecord, base: RunRecord, tolerances: (file: BaselineFile, path: String)?) -> ComparisonRegime {
        let headClass = head.environment.determinismClass, baseClass = base.environment.determinismClass
        let fallback = BaselineTolerance.crossClassDefault
        let defaults = "abs \(fallback.abs), rel \(fallback.rel), wider for the families of BaselineTolerance.crossClass"
        return ComparisonRegime(kind: headClass == baseClass ? .bitwise : .tolerance, suite: head.suite, runClass: headClass,
                                referenceClass: baseClass,
                                reference: "run \(base.id)",
                                tolerances: headClass == baseClass ? nil
                                    : tolerances.map { "tolerances from the lines of \($0.path) (\(defaults) for metrics it lacks)" }
                                    ?? "default tolerances \(defaults) (the suite has no baseline file to take them from)")
    }
}

/// Computes verdicts of a run against a baseline file and, for timings, against a reference run.
public enum Comparator {
    /// Verdicts of `run` against the committed baselines under `baselinesDirectory`.
    ///
    /// Uses the file of the run's determinism class (bitwise); otherwise the first other class of the
    /// suite (tolerances, and says so); with no file every deterministic metric is `missing`.
    public static func compare(run: RunRecord, baselinesDirectory: URL, timingReference: RunRecord? = nil,
                               policy: ComparisonPolicy = .init()) throws(RecordingError) -> [MetricVerdict] {
        compare(run: run, baseline: try baseline(for: run, in: baselinesDirectory), timingReference: timingReference, policy: policy)
    }

    /// The baseline file `run` is judged against: its own determinism class (bitwise), else the first
    /// other class of the suite (tolerances); nil when the suite has none.
    public static func baseline(for run: RunRecord, in baselinesDirectory: URL) throws(RecordingError)
        -> (file: BaselineFile, path: String, sameClass: Bool)? {
        let ownClass = run.environment.determinismClass
        let classes = BaselineFile.classes(in: baselinesDirectory, suite: run.suite)
        guard let chosen = classes.contains(ownClass) ? ownClass : classes.first else { return nil }
        let url = BaselineFile.url(in: baselinesDirectory, suite: run.suite, determinismClass: chosen)
        return (try BaselineFile.load(url), url.path, chosen == ownClass)
    }

    /// Verdicts of `run` against an already loaded baseline (nil: none exists).
    public static func compare(run: RunRecord, baseline: (file: BaselineFile, path: String, sameClass: Bool)?,
                               timingReference: RunRecord? = nil, policy: ComparisonPolicy = .init()) -> [MetricVerdict] {
        var verdicts: [MetricVerdict] = []
        let staleReasons = baseline.map { inputChanges(run: run, header: $0.file.header) } ?? []
        let referenceID = baseline?.path
        for result in run.results {
            verdicts.append(claimVerdict(result, baseline: baseline?.file, referenceID: referenceID))
            for criterion in result.criteria {
                var verdict = MetricVerdict(check: result.check, metric: BaselineCriterion.metricKey(criterion.name),
                                            outcome: .missing, reason: "NO_BASELINE", observed: criterion.observed)
                guard let baseline else {
                    verdict.detail = "no baseline file for suite \(run.suite); run `rbench baseline update`"
                    verdicts.append(verdict)
                    continue
                }
                verdict.referenceKind = "baseline_file"
                verdict.referenceID = referenceID
                guard staleReasons.isEmpty else {
                    verdict.outcome = .stale
                    verdict.reason = "INPUTS_CHANGED"
                    verdict.detail = staleReasons.joined(separator: "; ")
                    verdicts.append(verdict)
                    continue
                }
                guard let entry = baseline.file.criterion(check: result.check, name: criterion.name) else {
                    verdict.detail = "no line for this criterion in \(baseline.path)"
                    verdicts.append(verdict)
                    continue
                }
                verdicts.append(compareCriterion(criterion, entry: entry, sameClass: baseline.sameClass, check: result.check,
                                                 referenceID: referenceID, baselineClass: baseline.file.header.determinismClass))
            }
            for metric in result.metrics {
                if metric.isStochastic {
                    continue // judged below, all timing metrics together (Holm)
                }
                var verdict = MetricVerdict(check: result.check, metric: metric.key, outcome: .missing,
                                            reason: "NO_BASELINE", observed: metric.value)
                guard let baseline else {
                    verdict.detail = "no baseline file for suite \(run.suite); `rbench baseline init --suite \(run.suite)` writes a candidate"
                    verdicts.append(verdict)
                    continue
                }
                verdict.referenceKind = "baseline_file"
                verdict.referenceID = referenceID
                guard staleReasons.isEmpty else {
                    verdict.outcome = .stale
                    verdict.reason = "INPUTS_CHANGED"
                    verdict.detail = staleReasons.joined(separator: "; ")
                    verdicts.append(verdict)
                    continue
                }
                guard let entry = baseline.file.entry(check: result.check, metric: metric.key) else {
                    verdict.detail = "no line for this metric in \(baseline.path)"
                    verdicts.append(verdict)
                    continue
                }
                verdicts.append(compareDeterministic(metric.value, entry: entry, sameClass: baseline.sameClass,
                                                     check: result.check, metric: metric.key, referenceID: referenceID,
                                                     baselineClass: baseline.file.header.determinismClass))
            }
        }
        if let baseline, staleReasons.isEmpty {
            // An errored check has no metrics to compare, and one that needed an engine computed none.
            let erroredChecks = Set(run.results.filter { $0.verdict == .error || $0.verdict == .needsEngine }.map(\.check))
            let presentCriteria = Set(run.results.flatMap { result in result.criteria.map { result.check + "\u{0}" + $0.name } })
            for entry in baseline.file.criteria where !presentCriteria.contains(entry.check + "\u{0}" + entry.name)
                && !erroredChecks.contains(entry.check) {
                verdicts.append(MetricVerdict(check: entry.check, metric: entry.metricKey, outcome: .changed,
                                              reason: "CRITERION_DISAPPEARED", detail: "in the baseline but not judged in this run",
                                              referenceKind: "baseline_file", referenceID: referenceID, method: "criterion"))
            }
            let present = Set(run.results.flatMap { result in result.metrics.map { result.check + "\u{0}" + $0.key } })
            for entry in baseline.file.entries where !present.contains(entry.check + "\u{0}" + entry.metric)
                && !erroredChecks.contains(entry.check) {
                verdicts.append(MetricVerdict(check: entry.check, metric: entry.metric, outcome: .changed,
                                              reason: "METRIC_DISAPPEARED", detail: "in the baseline but not in this run",
                                              referenceKind: "baseline_file", referenceID: referenceID, method: "bitwise",
                                              reference: entry.value))
            }
        }
        verdicts += timingVerdicts(run: run, reference: timingReference, policy: policy)
        return verdicts
    }

    /// Compares two runs directly with the regime `check` uses (``ComparisonRegime``): deterministic
    /// metrics bitwise within one determinism class; across classes within the tolerance of the
    /// metric's line in `tolerances` (a baseline file of the suite), else
    /// ``BaselineTolerance/crossClassDefault`` — the tolerance every new baseline line gets. Timings A/B.
    public static func compare(head: RunRecord, base: RunRecord, tolerances: BaselineFile? = nil,
                               policy: ComparisonPolicy = .init()) -> [MetricVerdict] {
        var entries: [BaselineEntry] = []
        var criteria: [BaselineCriterion] = []
        for result in base.results {
            for metric in result.metrics where !metric.isStochastic {
                let tolerance = tolerances?.entry(check: result.check, metric: metric.key)?.tolerance
                    ?? .crossClass(check: result.check, metric: metric.key)
                entries.append(BaselineEntry(check: result.check, metric: metric.key, value: metric.value, tolerance: tolerance,
                                             verdict: result.verdict, epoch: 0, reason: "", setBy: base.id))
            }
            for criterion in result.criteria {
                let tolerance = tolerances?.criterion(check: result.check, name: criterion.name)?.tolerance
                    ?? .crossClass(check: result.check, metric: criterion.statistic)
                criteria.append(BaselineCriterion(criterion, check: result.check, tolerance: tolerance, verdict: result.verdict,
                                                  epoch: 0, reason: "", setBy: base.id))
            }
        }
        let header = BaselineHeader(suite: base.suite, determinismClass: base.environment.determinismClass,
                                    classFields: base.environment.determinismFields, modelSHA256: base.modelSHA256,
                                    corpusSHA256: base.corporaSHA256, suiteSHA256: base.suiteSHA256)
        let file = BaselineFile(header: header, entries: entries, criteria: criteria)
        var verdicts = compare(run: head, baseline: (file, "run \(base.id)", head.environment.determinismClass == base.environment.determinismClass),
                               timingReference: base, policy: policy)
        for index in verdicts.indices where verdicts[index].referenceKind == "baseline_file" {
            verdicts[index].referenceKind = "run"
            verdicts[index].referenceID = base.id
        }
        return verdicts
    }

    static func inputChanges(run: RunRecord, header: BaselineHeader) -> [String] {
        var reasons: [String] = []
        if header.modelSHA256 != run.modelSHA256 { reasons.append("model sha256 \(run.modelSHA256.prefix(12)) ≠ baseline \(header.modelSHA256.prefix(12))") }
        if header.suiteSHA256 != run.suiteSHA256 { reasons.append("suite sha256 \(run.suiteSHA256.prefix(12)) ≠ baseline \(header.suiteSHA256.prefix(12))") }
        if header.corpusSHA256 != run.corporaSHA256 { reasons.append("corpus hashes differ from the baseline") }
        return reasons
    }

    /// The verdict layer: flips, passing controls and undecided controls are regressions whatever
    /// the numbers say; an inconclusive model verdict with nothing to hold it to is reported as
    /// inconclusive (a finding only under `--strict`).
    static func claimVerdict(_ result: ResultRecord, baseline: BaselineFile?, referenceID: String?) -> MetricVerdict {
        var verdict = MetricVerdict(check: result.check, metric: claimVerdictMetric, outcome: .pass, reason: "VERDICT_AS_EXPECTED",
                                    detail: result.verdict.rawValue, method: "verdict")
        let undecided = result.criteria.filter { $0.outcome == .undecided }.map(\.name)
        let undecidedText = undecided.isEmpty ? "" : "; undecided: \(undecided.joined(separator: ", "))"
        if result.verdict == .needsEngine {
            verdict.outcome = .skipped
            verdict.reason = "NEEDS_ENGINE"
            verdict.detail = result.notes.first ?? "the check runs a model and this run had recorded states only"
            return verdict
        }
        if result.verdict == .error {
            verdict.outcome = .regress
            verdict.reason = "CLAIM_ERROR"
            verdict.detail = result.error ?? "the claim could not be computed"
            return verdict
        }
        if let expected = result.expectedVerdict {
            if result.verdict == expected || result.verdict == .informational { return verdict }
            verdict.outcome = .regress
            switch result.verdict {
            case .supported:
                verdict.reason = "CONTROL_PASSED"
                verdict.detail = "control \(result.subject) came out supported; it must be \(expected.rawValue)"
            case .inconclusive:
                verdict.reason = "CONTROL_UNDECIDED"
                verdict.detail = "control \(result.subject) is inconclusive, so this check has not shown it can fail (expected \(expected.rawValue)\(undecidedText))"
            default:
                verdict.reason = "UNEXPECTED_VERDICT"
                verdict.detail = "\(result.verdict.rawValue), expected \(expected.rawValue)"
            }
            return verdict
        }
        let recorded = baseline?.verdict(ofCheck: result.check)
        guard let recorded else {
            if result.verdict == .inconclusive {
                verdict.outcome = .inconclusive
                verdict.reason = "CLAIM_INCONCLUSIVE"
                verdict.detail = "inconclusive\(undecidedText)"
            }
            return verdict
        }
        verdict.referenceKind = "baseline_file"
        verdict.referenceID = referenceID
        if recorded != result.verdict {
            if recorded.isDecisive && result.verdict.isDecisive {
                verdict.outcome = .regress
                verdict.reason = "CLAIM_FLIP"
            } else {
                verdict.outcome = .changed
                verdict.reason = "VERDICT_CHANGED"
            }
            verdict.detail = "\(recorded.rawValue) → \(result.verdict.rawValue)\(undecidedText)"
        }
        return verdict
    }

    /// A criterion against its baseline line: a changed rule is stale, a changed outcome a finding
    /// (held ↔ failed is a flip), and the interval bounds are compared as metric values are.
    static func compareCriterion(_ criterion: Criterion, entry: BaselineCriterion, sameClass: Bool, check: String,
                                 referenceID: String?, baselineClass: String) -> MetricVerdict {
        var verdict = MetricVerdict(check: check, metric: entry.metricKey, outcome: .pass, reason: "CRITERION_AS_RECORDED",
                                    detail: "\(criterion.rule): \(criterion.outcome.rawValue) \(criterion.observedWithInterval)",
                                    referenceKind: "baseline_file", referenceID: referenceID, method: "criterion",
                                    observed: criterion.observed,
                                    thresholds: ["threshold": criterion.threshold, "abs": entry.tolerance.abs, "rel": entry.tolerance.rel])
        if entry.statistic != criterion.statistic || entry.comparison != criterion.comparison
            || entry.threshold.bitPattern != criterion.threshold.bitPattern {
            verdict.outcome = .stale
            verdict.reason = "CRITERION_REDEFINED"
            verdict.detail = "baseline \(entry.statistic) \(entry.comparison.symbol) \(entry.threshold), now \(criterion.rule); update the baseline with a reason"
            return verdict
        }
        if entry.outcome != criterion.outcome {
            let flip = entry.outcome != .undecided && criterion.outcome != .undecided
            verdict.outcome = flip ? .regress : .changed
            verdict.reason = flip ? "CRITERION_FLIP" : "CRITERION_CHANGED"
            verdict.detail = "\(entry.outcome.rawValue) → \(criterion.outcome.rawValue): \(criterion.rule), observed \(criterion.observedWithInterval)"
            return verdict
        }
        let pairs: [(Double?, Double?)] = [(entry.low, criterion.interval?.low), (entry.high, criterion.interval?.high)]
        for (recorded, observed) in pairs {
            switch (recorded, observed) {
            case (nil, nil): continue
            case (let r?, let o?):
                if sameClass ? r.bitPattern == o.bitPattern
                    : (r.isNaN && o.isNaN) || r == o || Swift.abs(r - o) <= max(entry.tolerance.abs, entry.tolerance.rel * Swift.abs(r)) {
                    continue
                }
                verdict.outcome = .changed
                verdict.reason = sameClass ? "NONDETERMINISM_OR_NUMERIC_CHANGE" : "OUT_OF_TOLERANCE"
                verdict.detail = "interval bound \(o) vs baseline \(r)\(sameClass ? "" : " from class \(baselineClass)")"
                return verdict
            default:
                verdict.outcome = .changed
                verdict.reason = "INTERVAL_APPEARED_OR_VANISHED"
                verdict.detail = "the baseline \(recorded == nil ? "has no" : "has an") interval, this run \(observed == nil ? "has none" : "has one")"
                return verdict
            }
        }
        if !sameClass { verdict.detail += " (compared with determinism class \(baselineClass))" }
        return verdict
    }

    static func compareDeterministic(_ value: Double, entry: BaselineEntry, sameClass: Bool, check: String, metric: String,
                                     referenceID: String?, baselineClass: String) -> MetricVerdict {
        var verdict = MetricVerdict(check: check, metric: metric, outcome: .pass, reason: "BITWISE_EQUAL",
                                    referenceKind: "baseline_file", referenceID: referenceID, method: "bitwise",
                                    observed: value, reference: entry.value,
                                    thresholds: ["abs": entry.tolerance.abs, "rel": entry.tolerance.rel, "ulp": Double(entry.tolerance.ulp)])
        if sameClass {
            if value.bitPattern != entry.value.bitPattern {
                verdict.outcome = .changed
                verdict.reason = "NONDETERMINISM_OR_NUMERIC_CHANGE"
                verdict.detail = "\(value) ≠ baseline \(entry.value) (epoch \(entry.epoch)); update the baseline with a reason if intended"
            }
            return verdict
        }
        verdict.method = "tolerance"
        let bound = max(entry.tolerance.abs, entry.tolerance.rel * abs(entry.value))
        let bothNaN = value.isNaN && entry.value.isNaN
        let withinAbsolute = abs(value - entry.value) <= bound
        let withinULP = (verdict.ulpDistance ?? .max) <= entry.tolerance.ulp
        if bothNaN || withinAbsolute || withinULP {
            verdict.reason = "WITHIN_TOLERANCE"
            verdict.detail = "|Δ| ≤ \(bound) against determinism class \(baselineClass) (cross-class tolerance)"
        } else {
            verdict.outcome = .changed
            verdict.reason = "OUT_OF_TOLERANCE"
            verdict.detail = "\(value) vs \(entry.value) from class \(baselineClass): |Δ| > \(bound), ulp > \(entry.tolerance.ulp)"
        }
        return verdict
    }

    /// A/B timing verdicts with Holm's step-down correction across the run's timing metrics.
    static func timingVerdicts(run: RunRecord, reference: RunRecord?, policy: ComparisonPolicy) -> [MetricVerdict] {
        var referenceSamples: [String: [Double]] = [:]
        for result in reference?.results ?? [] {
            for metric in result.metrics where metric.isStochastic { referenceSamples[result.check + "\u{0}" + metric.key] = metric.samples }
        }
        let threshold = log1p(policy.timingMargin)
        var verdicts: [MetricVerdict] = []
        var tested: [(index: Int, p: Double)] = []
        for result in run.results {
            for metric in result.metrics where metric.isStochastic {
                var verdict = MetricVerdict(check: result.check, metric: metric.key, regime: .stochastic, outcome: .inconclusive,
                                            reason: "NO_REFERENCE_SAMPLES", observed: metric.value,
                                            thresholds: ["margin": policy.timingMargin, "alpha": policy.alpha])
                let head = metric.samples ?? []
                guard let base = referenceSamples[result.check + "\u{0}" + metric.key], let reference else {
                    verdict.detail = "no reference run with samples for this metric"
                    verdicts.append(verdict)
                    continue
                }
                verdict.referenceKind = "run"
                verdict.referenceID = reference.id
                verdict.method = "hl_mwu"
                guard head.allSatisfy({ $0 > 0 }), base.allSatisfy({ $0 > 0 }), head.count >= 2, base.count >= 2 else {
                    verdict.reason = "UNUSABLE_SAMPLES"
                    verdict.detail = "timing samples must be positive and at least 2 per arm"
                    verdicts.append(verdict)
                    continue
                }
                let comparison = TimingStatistics.compare(base: base, head: head)
                verdict.effect = comparison.effect
                verdict.effectCILow = comparison.ciLow
                verdict.effectCIHigh = comparison.ciHigh
                verdict.pValue = comparison.pValue
                verdict.headCount = head.count
                verdict.baseCount = base.count
                if comparison.ciHigh < -threshold {
                    verdict.outcome = .improve
                    verdict.reason = "FASTER"
                } else if comparison.ciHigh < threshold {
                    verdict.outcome = .pass
                    verdict.reason = "WITHIN_MARGIN"
                } else if comparison.ciLow > threshold {
                    verdict.outcome = .regress // provisional until Holm below
                    verdict.reason = "SLOWER"
                    tested.append((verdicts.count, comparison.pValue))
                } else {
                    verdict.reason = "CI_CROSSES_MARGIN"
                }
                verdict.detail = String(format: "time ratio %.4f, CI [%.4f, %.4f], p %.3g", exp(comparison.effect),
                                        exp(comparison.ciLow), exp(comparison.ciHigh), comparison.pValue)
                verdicts.append(verdict)
            }
        }
        // Holm: the k-th smallest p (0-based) must beat α / (m − k); once one fails, all larger fail.
        let m = verdicts.filter { $0.method == "hl_mwu" }.count
        var stillSignificant = true
        for (rank, item) in tested.sorted(by: { $0.p < $1.p }).enumerated() {
            stillSignificant = stillSignificant && item.p < policy.alpha / Double(m - rank)
            if !stillSignificant {
                verdicts[item.index].outcome = .inconclusive
                verdicts[item.index].reason = "NOT_SIGNIFICANT_AFTER_HOLM"
            }
        }
        return verdicts
    }
}
