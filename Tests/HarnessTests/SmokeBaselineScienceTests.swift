import Evidence
import Foundation
import Recording
import Testing
import TestSupport

/// What the committed smoke baselines must say about the science, for every determinism class
/// that has one.
///
/// `make test` ends with the smoke suite checked against its baseline: the code must reproduce the
/// file's metrics and criteria (bitwise within a class). These tests pin what the file itself
/// states, so together they prove the code gives these results on the real SmolLM2, without
/// the claim tests running the same captures a second time (TD-1/2/3 on 200 WikiText paragraphs,
/// LoT-1/3 on 720 Walden chunks, trained and random-init). A baseline re-recorded with a result
/// that breaks one of these expectations fails here, whatever its `--reason`.
@Suite("The smoke baselines state the claims' expected results")
struct SmokeBaselineScienceTests {
    static let files: [URL] = {
        let directory = Fixtures.packageRoot.appendingPathComponent("Baselines/claims/smoke")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") && !$0.contains("candidate") }.sorted().map { directory.appendingPathComponent($0) }
    }()

    @Test("there is a smoke baseline to check against")
    func present() {
        #expect(!Self.files.isEmpty, "no Baselines/claims/smoke/*.jsonl: `make test` would have nothing to gate on")
    }

    struct Reader {
        let file: BaselineFile
        let name: String

        func value(_ check: String, _ metric: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
            try #require(file.entry(check: check, metric: metric)?.value, "\(name): no \(check) \(metric)", sourceLocation: sourceLocation)
        }

        func values(_ check: String, _ name: String, _ indices: some Sequence<Int>) -> [Double?] {
            indices.map { file.entry(check: check, metric: "\(name)[\($0)]")?.value }
        }

        func verdict(_ check: String) -> Verdict? { file.verdict(ofCheck: check) }

        func criteria(_ check: String) -> [BaselineCriterion] { file.criteria.filter { $0.check == check } }
    }

    static func readers() throws -> [Reader] {
        try files.map { Reader(file: try BaselineFile.load($0), name: $0.lastPathComponent) }
    }

    @Test("TD-1: supported with R near the pilot's 0.84; the controls that break the pairing are refuted")
    func unitCorrelation() throws {
        for b in try Self.readers() {
            #expect(b.verdict("TD-1/model") == .supported, "\(b.name)")
            let R = try b.value("TD-1/model", "R")
            #expect(R > 0.75 && R < 0.95, "\(b.name): R \(R)")
            for control in ["shuffle", "cross-unit", "rotated-basis"] {
                #expect(b.verdict("TD-1/\(control)") == .refuted, "\(b.name): TD-1/\(control)")
            }
        }
    }

    @Test("TD-2: trained SmolLM2 densifies; the random-init control stays flat (pilot ρ ≈ 0.64) and is refuted")
    func densification() throws {
        for b in try Self.readers() {
            #expect(b.verdict("TD-2/model") == .supported, "\(b.name)")
            #expect(b.verdict("TD-2/random-init") == .refuted, "\(b.name)")
            let flat = try b.value("TD-2/random-init", "rho_excl_massive[20]")
            #expect(abs(flat - 0.637) < 0.02, "\(b.name): ρ \(flat)")
        }
    }

    @Test("TD-3: trained SmolLM2 accelerates (pilot A ≈ 4.6, §0.7 thirds); random-init does not (A ≈ 1)")
    func acceleration() throws {
        for b in try Self.readers() {
            #expect(b.verdict("TD-3/model") == .supported, "\(b.name)")
            #expect(b.verdict("TD-3/random-init") == .refuted, "\(b.name)")
            #expect(try b.value("TD-3/random-init", "acceleration_ratio") < 1.3)
        }
    }

    @Test("LoT-1: late layers have a participation ratio of a few dimensions; random-init spreads and fails both criteria")
    func lowRank() throws {
        for b in try Self.readers() {
            #expect(b.verdict("LoT-1/model") == .supported, "\(b.name)")
            #expect(try b.value("LoT-1/model", "median_pr_late") < 6)
            #expect(try b.value("LoT-1/model", "max_k90_late") <= 144)
            #expect(b.file.entry(check: "LoT-1/model", metric: "angle_u1[29]") != nil)
            // The figure data: five trajectories' projections at every layer, and spectra that start at 1 and fall.
            for sample in 0..<5 {
                #expect(b.values("LoT-1/model", "path\(sample)_u1", 1...30).allSatisfy { $0 != nil })
                #expect(b.values("LoT-1/model", "path\(sample)_u2", 1...30).allSatisfy { $0 != nil })
            }
            let ranks = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
            for t in [1, 10, 20, 30] {
                let spectrum = b.values("LoT-1/model", String(format: "spectrum_t%02d", t), ranks).compactMap { $0 }
                #expect(spectrum.count == ranks.count && spectrum.first == 1, "\(b.name): t = \(t)")
                #expect(zip(spectrum, spectrum.dropFirst()).allSatisfy { $0 >= $1 }, "\(b.name): t = \(t)")
            }

            #expect(b.verdict("LoT-1/random-init") == .refuted, "\(b.name)")
            #expect(b.criteria("LoT-1/random-init").count == 2)
            #expect(b.criteria("LoT-1/random-init").allSatisfy { $0.outcome != .held })
            #expect(try b.value("LoT-1/random-init", "median_pr_late") >= 25)
            // The pilot's k90 ≥ 0.3·D holds at N = 1000 × 50 tokens; the smoke size sits lower (about 0.27·D).
            #expect(try b.value("LoT-1/random-init", "min_k90_late") > 0.25 * 576)
        }
    }

    @Test("LoT-3: supported with λ near the pilot's 0.18 and Gaussian-looking Q–Q quantiles; random-init fails the variance fit")
    func gaussianResiduals() throws {
        for b in try Self.readers() {
            #expect(b.verdict("LoT-3/model") == .supported, "\(b.name)")
            let lambda = try b.value("LoT-3/model", "lambda_interior")
            #expect(lambda > 0.12 && lambda < 0.25, "\(b.name): λ \(lambda)")
            #expect(try b.value("LoT-3/model", "pairs") == 435)
            let normal = b.values("LoT-3/model", "qq_gaussian", 0..<19).compactMap { $0 }
            #expect(normal.count == 19 && abs(normal[9]) < 1e-12 && abs(normal.first! + normal.last!) < 1e-9)
            for t in [5, 15, 25] {
                let q = b.values("LoT-3/model", String(format: "qq_t%02d", t), 0..<19).compactMap { $0 }
                #expect(q.count == 19 && zip(q, q.dropFirst()).allSatisfy { $0 <= $1 }, "\(b.name): t = \(t)")
                #expect(abs(q[9]) < 0.5 && q.first! < -2 && q.last! > 2, "\(b.name): t = \(t)")
            }

            #expect(b.verdict("LoT-3/random-init") == .refuted, "\(b.name)")
            let randomLambda = try b.value("LoT-3/random-init", "lambda_interior")
            let randomR2 = try b.value("LoT-3/random-init", "r2_interior")
            #expect(randomLambda < 0.1 || randomR2 < 0.8, "\(b.name): λ \(randomLambda), R² \(randomR2)")
            let fits = b.criteria("LoT-3/random-init").filter { $0.statistic == "r2_interior" || $0.statistic == "lambda_interior" }
            #expect(fits.count == 3 && fits.contains { $0.outcome == .failed }, "\(b.name)")
        }
    }
}
