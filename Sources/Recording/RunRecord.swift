import Evidence
import Foundation
import Profiling

/// The life cycle of a run; only `complete` runs are compared with anything.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running, complete, failed, aborted
}

/// A claim verdict as recorded: the one ``Verdict`` type of the Evidence vocabulary.
public typealias RecordedVerdict = Verdict

/// A content-addressed input of a run (model, corpus, suite).
public struct ArtifactRecord: Codable, Sendable, Equatable {
    /// `model`, `corpus` or `suite`.
    public var kind: String
    /// What the run used it for, unique per run: `model`, `suite`, `corpus:<name>`.
    public var role: String
    public var path: String
    public var sha256: String
    public var sizeBytes: Int64

    public init(kind: String, role: String, path: String, sha256: String, sizeBytes: Int64) {
        self.kind = kind
        self.role = role
        self.path = path
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
    }
}

/// One recorded number; `bits` is the authoritative IEEE-754 pattern of `value`.
public struct MetricRecord: Codable, Sendable, Equatable {
    public var name: String
    public var layer: Int?
    public var unit: String
    public var value: Double
    /// The resampling interval of a statistic a criterion reads or a check reports as its result.
    public var interval: Interval?
    /// Raw repetitions (timing metrics only); their presence makes the metric stochastic.
    public var samples: [Double]?

    public init(name: String, layer: Int? = nil, unit: String = "", value: Double, interval: Interval? = nil,
                samples: [Double]? = nil) {
        self.name = name
        self.layer = layer
        self.unit = unit
        self.value = value
        self.interval = interval
        self.samples = samples
    }

    /// `name` or `name[layer]`.
    public var key: String { layer.map { "\(name)[\($0)]" } ?? name }
    /// Timing metrics carry samples and are judged statistically, never bitwise.
    public var isStochastic: Bool { samples != nil }

    enum CodingKeys: String, CodingKey { case name, layer, unit, value, bits, interval, samples }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        layer = try container.decodeIfPresent(Int.self, forKey: .layer)
        unit = try container.decode(String.self, forKey: .unit)
        let bits = try container.decode(String.self, forKey: .bits)
        guard let exact = FloatBits.double(fromHex: bits) else {
            throw DecodingError.dataCorruptedError(forKey: .bits, in: container, debugDescription: "bits must be 16 hex digits")
        }
        value = exact
        interval = try container.decodeIfPresent(Interval.self, forKey: .interval)
        let sampleBits = try container.decodeIfPresent([String].self, forKey: .samples)
        samples = try sampleBits.map { list in
            try list.map { text in
                guard let sample = FloatBits.double(fromHex: text) else {
                    throw DecodingError.dataCorruptedError(forKey: .samples, in: container, debugDescription: "samples must be hex bit patterns")
                }
                return sample
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(layer, forKey: .layer)
        try container.encode(unit, forKey: .unit)
        // `value` is for readers; `bits` (and hex samples) are what is read back, so nothing is lost.
        try container.encode(value, forKey: .value)
        try container.encode(FloatBits.hex(value), forKey: .bits)
        try container.encodeIfPresent(interval, forKey: .interval)
        try container.encodeIfPresent(samples?.map(FloatBits.hex), forKey: .samples)
    }
}

/// Where one check's wall time went (``Phase``), with the work done in each phase: recorded with
/// the result, shown by `rbench run --profile`, and kept in history as `profile.<phase>`.
public struct PhaseProfile: Codable, Sendable, Equatable {
    /// Seconds per phase; `statistics` is the rest of the check's wall time.
    public var seconds: [String: Double]
    /// Tokens run forward, rows resumed or read out, replicates resampled.
    public var work: [String: Int]

    public init(seconds: [String: Double], work: [String: Int]) {
        self.seconds = seconds
        self.work = work
    }

    /// The split of a check that took `wallNanoseconds`, from the clock's difference over it.
    public init(_ difference: PhaseClock.Snapshot, wallNanoseconds: UInt64) {
        var seconds: [String: Double] = [:], work: [String: Int] = [:]
        var accounted: UInt64 = 0
        for phase in Phase.allCases {
            let nanoseconds = difference.nanoseconds[phase] ?? 0
            accounted &+= nanoseconds
            seconds[phase.rawValue] = Double(nanoseconds) / 1e9
            work[phase.rawValue] = difference.work[phase] ?? 0
        }
        seconds["statistics"] = Double(wallNanoseconds > accounted ? wallNanoseconds - accounted : 0) / 1e9
        self.init(seconds: seconds, work: work)
    }

    /// Phase names in display order.
    public static let phases = Phase.allCases.map(\.rawValue) + ["statistics"]

    /// Tokens per second of the forward passes (nil without any).
    public var forwardRate: Double? {
        guard let tokens = work[Phase.forward.rawValue], tokens > 0, let time = seconds[Phase.forward.rawValue], time > 0 else { return nil }
        return Double(tokens) / time
    }
}

/// One claim run on one subject.
public struct ResultRecord: Codable, Sendable, Equatable {
    public var claimID: String
    /// `model` or a control name.
    public var subject: String
    public var verdict: RecordedVerdict
    /// What the verdict must be; `refuted` for controls, nil for the model run.
    public var expectedVerdict: RecordedVerdict?
    public var seed: UInt64
    public var durationNS: UInt64
    public var error: String?
    public var notes: [String]
    /// The judged criteria the verdict rests on, in the claim's order.
    public var criteria: [Criterion]
    public var metrics: [MetricRecord]
    /// Where the check's time went (nil for results recorded before profiles existed).
    public var profile: PhaseProfile?

    public init(claimID: String, subject: String, verdict: RecordedVerdict, expectedVerdict: RecordedVerdict? = nil,
                seed: UInt64, durationNS: UInt64, error: String? = nil, notes: [String] = [], criteria: [Criterion] = [],
                metrics: [MetricRecord], profile: PhaseProfile? = nil) {
        self.claimID = claimID
        self.subject = subject
        self.verdict = verdict
        self.expectedVerdict = expectedVerdict
        self.seed = seed
        self.durationNS = durationNS
        self.error = error
        self.notes = notes
        self.criteria = criteria
        self.metrics = metrics
        self.profile = profile
    }

    enum CodingKeys: String, CodingKey {
        case claimID, subject, verdict, expectedVerdict, seed, durationNS, error, notes, criteria, metrics, profile
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        claimID = try c.decode(String.self, forKey: .claimID)
        subject = try c.decode(String.self, forKey: .subject)
        verdict = try c.decode(RecordedVerdict.self, forKey: .verdict)
        expectedVerdict = try c.decodeIfPresent(RecordedVerdict.self, forKey: .expectedVerdict)
        seed = try c.decode(UInt64.self, forKey: .seed)
        durationNS = try c.decode(UInt64.self, forKey: .durationNS)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        notes = try c.decode([String].self, forKey: .notes)
        // Schema-1 run files predate typed criteria (they kept them as notes).
        criteria = try c.decodeIfPresent([Criterion].self, forKey: .criteria) ?? []
        metrics = try c.decode([MetricRecord].self, forKey: .metrics)
        profile = try c.decodeIfPresent(PhaseProfile.self, forKey: .profile)
    }

    /// The check key baselines and verdicts use: `<claim>/<subject>`, e.g. `TD-1/shuffle`.
    public var check: String { "\(claimID)/\(subject)" }
}

/// Everything about one run; also the layout of the self-contained `runs/<id>.json` file.
public struct RunRecord: Codable, Sendable, Equatable {
    /// 2: typed criteria with intervals, metric intervals, the `inconclusive` verdict.
    public static let currentSchema = 2
    /// Older schemas this build still reads (their runs import with no criteria).
    public static let readableSchemas: Set<Int> = [1, 2]

    public var schema: Int
    public var id: String
    public var status: RunStatus
    /// Seconds since 1970.
    public var startedAt: Double
    public var finishedAt: Double?
    public var suite: String
    public var suiteSHA256: String
    public var modelSHA256: String
    /// Corpus name → sha256.
    public var corporaSHA256: [String: String]
    public var artifacts: [ArtifactRecord]
    public var masterSeed: UInt64
    public var argv: [String]
    public var revision: RevisionInfo
    public var environment: EnvironmentInfo
    public var results: [ResultRecord]

    public init(id: String = UUID().uuidString.lowercased(), status: RunStatus = .running,
                startedAt: Double = Date().timeIntervalSince1970, finishedAt: Double? = nil, suite: String,
                suiteSHA256: String, modelSHA256: String, corporaSHA256: [String: String],
                artifacts: [ArtifactRecord] = [], masterSeed: UInt64, argv: [String], revision: RevisionInfo,
                environment: EnvironmentInfo, results: [ResultRecord] = []) {
        self.schema = Self.currentSchema
        self.id = id
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.suite = suite
        self.suiteSHA256 = suiteSHA256
        self.modelSHA256 = modelSHA256
        self.corporaSHA256 = corporaSHA256
        self.artifacts = artifacts
        self.masterSeed = masterSeed
        self.argv = argv
        self.revision = revision
        self.environment = environment
        self.results = results
    }
}

/// Reads and writes `runs/<run-id>.json`.
public enum RunFile {
    /// Writes the run atomically as `<directory>/<id>.json` and returns its URL.
    @discardableResult
    public static func write(_ run: RunRecord, to directory: URL) throws(RecordingError) -> URL {
        let url = directory.appendingPathComponent("\(run.id).json")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try encoder.encode(run).write(to: url, options: .atomic)
        } catch {
            throw .database(path: url.path, message: "cannot write run file: \(error)")
        }
        return url
    }

    /// Reads a run file.
    public static func read(_ url: URL) throws(RecordingError) -> RunRecord {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .missingFile(path: url.path, hint: "run files live in results/runs/")
        }
        do {
            let run = try decoder.decode(RunRecord.self, from: data)
            guard RunRecord.readableSchemas.contains(run.schema) else {
                throw RecordingError.badFile(path: url.path, line: nil, message: "run file schema \(run.schema) is not one this build reads (\(RunRecord.readableSchemas.sorted().map(String.init).joined(separator: ", "))); use a newer rbench")
            }
            return run
        } catch let error as RecordingError {
            throw error
        } catch {
            throw .badFile(path: url.path, line: nil, message: "not a run file: \(error)")
        }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }
}
